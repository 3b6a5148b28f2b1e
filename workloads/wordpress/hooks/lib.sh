# Shared by the customize hooks (sourced; POSIX sh).

# overlay SRC ROOT: copies the tree SRC into ROOT, files owned by root, keeping the modes of
# ROOT's existing directories.
overlay() {
  tar -C "$1" --owner=0 --group=0 --numeric-owner -cf - . | tar -C "$2" --no-overwrite-dir -xpf -
}

# add_system_user ROOT NAME ID GECOS HOME: a user and a group NAME with uid = gid = ID.
add_system_user() {
  if ! grep -q "^$2:" "$1/etc/group"; then
    echo "$2:x:$3:" >>"$1/etc/group"
    [ ! -f "$1/etc/gshadow" ] || echo "$2:!::" >>"$1/etc/gshadow"
  fi
  if ! grep -q "^$2:" "$1/etc/passwd"; then
    echo "$2:x:$3:$3:$4:$5:/usr/sbin/nologin" >>"$1/etc/passwd"
    [ ! -f "$1/etc/shadow" ] || echo "$2:!:1::::::" >>"$1/etc/shadow"
  fi
}

# clean_run ROOT KEEP...: empties ROOT/run but for lock and the directories KEEP (names in /run),
# which mmdebstrap then leaves alone (--skip=cleanup/run).
clean_run() {
  r=$1
  shift
  for e in "$r/run/"* "$r/run/".[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    keep=0
    for k in lock "$@"; do [ "$e" = "$r/run/$k" ] && keep=1; done
    [ $keep = 1 ] || rm -rf "$e"
  done
}

# trim ROOT: what a container never reads (the dpkg path-exclude options keep most of it out).
trim() {
  rm -rf "$1/var/cache/debconf/"*-old "$1/var/lib/dpkg/"*-old "$1/var/log/"*.log \
    "$1/var/log/apt" "$1/usr/share/lintian"
}

# base_files ROOT: runc writes no /etc/hosts, and MariaDB's install script and PHP's resolver
# both look up localhost.
base_files() {
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$1/etc/hosts"
}
