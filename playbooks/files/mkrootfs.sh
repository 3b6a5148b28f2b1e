#!/bin/sh
# Builds the root filesystem of one of Ferry's workload containers from this host's own binaries.
#
#   mkrootfs.sh web ROOTFS --ballast PATH   busybox-static (sh, httpd, ...), /start.sh, /www with a
#                                           CGI, and PATH installed as /usr/bin/ferry-ballast
#   mkrootfs.sh kv  ROOTFS                  Debian's redis-server with the shared libraries ldd lists
#                                           (and the dynamic loader), plus busybox for debugging
#
# Idempotent: a file is only rewritten when its content or mode differs, and files the running
# workload writes (/www/counter, /www/instance, /var/log/ferry-posts.log) are never touched.
# The last line of output is FERRY_ROOTFS_CHANGED=1 or FERRY_ROOTFS_CHANGED=0.
#
# Overrides: BUSYBOX=/path/to/static/busybox, REDIS_SERVER=/path/to/redis-server.
set -eu
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH LC_ALL=C

die() { echo "mkrootfs: $*" >&2; exit 1; }
usage() { die "usage: mkrootfs.sh web ROOTFS --ballast PATH | mkrootfs.sh kv ROOTFS"; }

[ $# -ge 2 ] || usage
kind=$1
root=$2
shift 2
ballast=
while [ $# -gt 0 ]; do
  case $1 in
    --ballast) [ $# -ge 2 ] || usage; ballast=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $kind in web | kv) ;; *) usage ;; esac
case $root in /*) ;; *) die "ROOTFS must be an absolute path: $root" ;; esac
[ "$root" != / ] || die "refusing to build a rootfs at /"

changed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

note() { changed=1; echo "mkrootfs: $*"; }

# ensure_dir DIR MODE
ensure_dir() {
  if [ -L "$root$1" ] || { [ -e "$root$1" ] && [ ! -d "$root$1" ]; }; then
    rm -f "$root$1"
  fi
  if [ ! -d "$root$1" ]; then
    mkdir -p "$root$1"
    note "created $1"
  fi
  if [ "$(stat -c %a "$root$1")" != "$2" ]; then
    chmod "$2" "$root$1"
    note "chmod $2 $1"
  fi
}

# install_file SRC DST MODE: copies SRC to ROOTFS/DST (atomically) unless identical.
install_file() {
  dst=$root$2
  if [ -f "$dst" ] && [ ! -L "$dst" ] && cmp -s "$1" "$dst" && [ "$(stat -c %a "$dst")" = "$3" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$dst")"
  cp "$1" "$dst.ferry-tmp"
  chmod "$3" "$dst.ferry-tmp"
  rm -rf "$dst"
  mv -f "$dst.ferry-tmp" "$dst"
  note "installed $2"
}

# install_text DST MODE <<EOF ... : the same, with the content on stdin.
install_text() {
  cat >"$tmp/text"
  install_file "$tmp/text" "$1" "$2"
}

is_static() {
  # ldd says so for static and static-pie executables; a dynamic one lists its libraries.
  ldd "$1" 2>&1 | grep -Eq 'not a dynamic executable|statically linked'
}

find_busybox() {
  for b in ${BUSYBOX:-} /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && is_static "$b"; then
      echo "$b"
      return 0
    fi
  done
  return 1
}

base_layout() {
  for d in /bin /dev /etc /proc /sys /root /usr /usr/bin /var /var/log; do ensure_dir "$d" 755; done
  ensure_dir /tmp 1777
  install_text /etc/passwd 644 <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  install_text /etc/group 644 <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  install_text /etc/nsswitch.conf 644 <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
  install_text /etc/hosts 644 <<'EOF'
127.0.0.1 localhost
::1 localhost
EOF
}

install_busybox() {
  install_file "$1" /bin/busybox 755
  # One symlink per applet, all in /bin (PATH covers it). Forks are counted here: under QEMU
  # software emulation each costs ~40 ms, and five per applet took 80 s. So: one find drops links
  # that point elsewhere, shell builtins find the missing ones, one process creates them all.
  find "$root/bin" -maxdepth 1 -type l ! -lname busybox -delete
  : >"$tmp/missing"
  for applet in $("$1" --list); do
    case $applet in busybox | */*) continue ;; esac
    [ -L "$root/bin/$applet" ] && continue
    [ ! -e "$root/bin/$applet" ] || rm -rf "${root:?}/bin/$applet"
    echo "$applet" >>"$tmp/missing"
  done
  [ -s "$tmp/missing" ] || return 0
  changed=1
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import os, sys
for n in sys.stdin.read().split(): os.symlink("busybox", os.path.join(sys.argv[1], n))' "$root/bin" <"$tmp/missing"
  else
    while read -r applet; do ln -s busybox "$root/bin/$applet"; done <"$tmp/missing"
  fi
}

build_web() {
  [ -n "$ballast" ] || die "web needs --ballast PATH (the static ferry-ballast binary)"
  [ -f "$ballast" ] || die "ballast binary not found: $ballast"
  is_static "$ballast" || die "$ballast is not statically linked"
  bb=$(find_busybox) || die "no static busybox found (install busybox-static, or set BUSYBOX=)"

  base_layout
  ensure_dir /www 755
  ensure_dir /www/cgi-bin 755
  install_busybox "$bb"
  install_file "$ballast" /usr/bin/ferry-ballast 755

  install_text /start.sh 755 <<'EOF'
#!/bin/sh
# PID 1 of Ferry's web container: busybox httpd (daemonized) on 0.0.0.0:$FERRY_PORT serving /www,
# then ferry-ballast in its place (it never forks, and it keeps /www/counter and /www/instance).
set -eu
: "${FERRY_PORT:=8080}" "${BALLAST_MIB:=256}" "${DIRTY_MIB_PER_S:=1}" "${INTERVAL_MS:=100}"
mkdir -p /var/log /tmp
[ -e /var/log/ferry-posts.log ] || : >/var/log/ferry-posts.log
# Fails (and so stops the container) if the port is taken: httpd binds before daemonizing.
/bin/busybox httpd -p "0.0.0.0:$FERRY_PORT" -h /www
exec /usr/bin/ferry-ballast --mib "$BALLAST_MIB" --dirty-mib-per-s "$DIRTY_MIB_PER_S" \
  --interval-ms "$INTERVAL_MS" --www /www
EOF

  install_text /www/index.html 644 <<'EOF'
<!doctype html>
<html>
<head><meta charset="utf-8"><title>Ferry web workload</title></head>
<body>
<h1>Ferry web workload</h1>
<ul>
<li><a href="/counter">/counter</a>: a counter incremented every interval; it keeps counting across a live migration</li>
<li><a href="/instance">/instance</a>: a random id chosen at start; it changes only on a restart</li>
<li><code>POST /cgi-bin/post</code>: appends the body (one line, prefixed by the X-Request-Id header) to /var/log/ferry-posts.log and answers its length; <a href="/cgi-bin/post">GET</a> answers the number of lines</li>
</ul>
</body>
</html>
EOF

  install_text /www/cgi-bin/post 755 <<'EOF'
#!/bin/sh
# busybox httpd CGI.
#   POST: appends "<X-Request-Id or -> <body, newlines as spaces>" as one line to
#         /var/log/ferry-posts.log and answers the body's length in bytes.
#   GET:  answers the number of lines in that log.
LOG=/var/log/ferry-posts.log

reply() { # STATUS BODY
  printf 'HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s' \
    "$1" "${#2}" "$2"
}

case "${REQUEST_METHOD:-GET}" in
POST)
  len=${CONTENT_LENGTH:-0}
  case $len in '' | *[!0-9]*) reply "411 Length Required" "Content-Length required
"; exit 0 ;; esac
  body=$(mktemp /tmp/ferry-post.XXXXXX) || { reply "500 Internal Server Error" "mktemp failed
"; exit 0; }
  head -c "$len" >"$body"
  n=$(wc -c <"$body")
  if [ "$((n))" -ne "$len" ]; then
    # The client went away (or a checkpoint closed its connection): log nothing.
    rm -f "$body"
    reply "400 Bad Request" "short body: $((n)) of $len bytes
"
    exit 0
  fi
  id=$(printf '%s' "${HTTP_X_REQUEST_ID:-}" | tr -c 'A-Za-z0-9._:-' '_' | head -c 128)
  [ -n "$id" ] || id=-
  # One write(2) per line on an O_APPEND file: concurrent CGI processes cannot interleave it
  # (three separate writes under busybox's flock did, when several POSTs landed at once).
  line="$id $(tr '\r\n' '  ' <"$body")"
  printf '%s\n' "$line" >>"$LOG"
  rc=$?
  rm -f "$body"
  if [ $rc -ne 0 ]; then
    reply "500 Internal Server Error" "could not append to $LOG
"
  else
    reply "200 OK" "$((n))
"
  fi
  ;;
GET | HEAD)
  n=0
  [ -f "$LOG" ] && n=$(wc -l <"$LOG")
  reply "200 OK" "$((n))
"
  ;;
*)
  reply "405 Method Not Allowed" "use GET or POST
"
  ;;
esac
EOF
}

build_kv() {
  src=${REDIS_SERVER:-$(command -v redis-server || true)}
  [ -n "$src" ] && [ -x "$src" ] || die "redis-server not found (apt-get install redis-server, or set REDIS_SERVER=)"
  real=$(readlink -f "$src")

  base_layout
  ensure_dir /data 755
  # Debian's /usr/bin/redis-server is a symlink to redis-check-rdb, and Redis picks its mode from
  # argv[0]: install the file under the name redis-server.
  install_file "$real" /usr/bin/redis-server 755

  ldd "$real" >"$tmp/ldd" 2>&1 || die "ldd $real failed: $(cat "$tmp/ldd")"
  if grep -q 'not found' "$tmp/ldd"; then die "missing libraries for $real: $(grep 'not found' "$tmp/ldd")"; fi
  # "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$tmp/ldd" | sort -u >"$tmp/libs"
  [ -s "$tmp/libs" ] || die "ldd listed no libraries for $real"
  while read -r lib; do
    # Real directories in the rootfs (the host's /lib may be a merged-/usr symlink).
    install_file "$(readlink -f "$lib")" "$lib" 755
  done <"$tmp/libs"

  if bb=$(find_busybox); then
    install_busybox "$bb"
  fi
}

mkdir -p "$root"
case $kind in
  web) build_web ;;
  kv) build_kv ;;
esac

echo "mkrootfs: $kind rootfs at $root: $(du -sk "$root" | cut -f1) KiB"
echo "FERRY_ROOTFS_CHANGED=$changed"
