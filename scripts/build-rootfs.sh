#!/usr/bin/env bash
# Builds the root filesystems of the paper's workload, WordPress with MariaDB, from Debian 12's
# packages with mmdebstrap, and caches each as a tarball keyed by a hash of everything that goes
# into it (package list, mmdebstrap options, the files under workloads/wordpress/, this script):
# a second run with the same inputs builds nothing. See workloads/wordpress/README.md.
#
#   build-rootfs.sh [--check] [--force] mariadb|wordpress|all
#
#   --check   build nothing: print the cached tarballs, exit 3 if one is missing
#   --force   build again even if cached
#
# Output on stdout, one line per rootfs (progress and mmdebstrap's log go to stderr):
#   FERRY_ROOTFS <kind> <tarball> <built: 0|1>
# Beside each tarball, <tarball>.json: key, size, build time, package versions.
#
# Environment: FERRY_CACHE_DIR (default /var/cache/ferry; tarballs in $FERRY_CACHE_DIR/rootfs),
# FERRY_DEBIAN_MIRROR (default http://deb.debian.org). Needs root, mmdebstrap and zstd.
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WL="$HERE/workloads/wordpress"
CACHE="${FERRY_CACHE_DIR:-/var/cache/ferry}/rootfs"
MIRROR="${FERRY_DEBIAN_MIRROR:-http://deb.debian.org}"
SUITE=bookworm

say() { printf '[build-rootfs] %s\n' "$*" >&2; }
die() { printf '[build-rootfs] ERROR: %s\n' "$*" >&2; exit 1; }

# What each rootfs is made of (besides Debian's Essential packages). mariadb-server-core and
# mariadb-client-core are MariaDB 10.11's server and client without the mariadb-server package's
# Galera, Perl scripts, rsync and init scripts, which a container started by runc never uses.
packages() {
  case $1 in
    mariadb) echo mariadb-server-core mariadb-client-core ;;
    wordpress) echo apache2 libapache2-mod-php8.2 php8.2-mysql wordpress wordpress-theme-twentytwentythree ;;
  esac
}

# The mmdebstrap options shared by both (part of the cache key).
common_opts() {
  local -a o=(
    --mode=root --variant=essential
    # merged /usr through symlinks, as Debian 12 has it, without the usrmerge package (and Perl)
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --aptopt='Acquire::Retries "3"'
    --dpkgopt=force-unsafe-io
    # The services run unprivileged and cannot create their directories in /run, so the hooks
    # make them and clear the rest of /run themselves (lib.sh: clean_run).
    --skip=cleanup/run
    # no documentation, manual pages or translations (the licences stay)
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
  )
  printf '%s\n' "${o[@]}"
}

# The tree under workloads/wordpress/ that the customize hook copies into KIND's rootfs.
overlay_of() {
  case $1 in mariadb) echo db ;; wordpress) echo web ;; esac
}

mirrors() {
  printf '%s\n' "deb $MIRROR/debian $SUITE main" "deb $MIRROR/debian $SUITE-updates main" \
    "deb $MIRROR/debian-security $SUITE-security main"
}

# Hash of every input of KIND's rootfs: a change to any of them means a new tarball.
cache_key() {
  local kind=$1
  {
    echo "kind=$kind suite=$SUITE"
    mirrors
    packages "$kind"
    common_opts
    # from stdin: sha256sum FILE would print the checkout's path too, and every clone or worktree
    # would then have keys of its own (and delete the others' tarballs)
    sha256sum <"$HERE/scripts/build-rootfs.sh"
    # names, modes and contents of the files copied into the rootfs, and of its hook
    local -a files
    mapfile -d '' -t files < <(cd "$WL" && find "$(overlay_of "$kind")" hooks/lib.sh "hooks/customize-$kind.sh" -type f -print0 | sort -z)
    (cd "$WL" && stat -c '%n %a' "${files[@]}" && sha256sum "${files[@]}")
  } | sha256sum | cut -c1-16
}

tarball_of() { echo "$CACHE/$1-$(cache_key "$1").tar.zst"; }

build() {
  local kind=$1 out tmp t0 t1 secs pkgs
  out=$(tarball_of "$kind")
  # mmdebstrap picks the output format from the name's extension, so the name in progress keeps it.
  tmp="$CACHE/.partial-$(basename "$out")"
  rm -f "$tmp" "$tmp.json"
  read -r -a pkgs <<<"$(packages "$kind")"
  local -a opts
  mapfile -t opts < <(common_opts)
  local -a mirror_args
  mapfile -t mirror_args < <(mirrors)
  say "building the $kind rootfs from Debian $SUITE (${pkgs[*]}); a few minutes the first time"
  t0=$(date +%s.%N)
  # mmdebstrap writes the tarball itself (numeric owners, zstd by the file name).
  mmdebstrap "${opts[@]}" --include="$(IFS=,; echo "${pkgs[*]}")" \
    --customize-hook="$WL/hooks/customize-$kind.sh" \
    "$SUITE" "$tmp" "${mirror_args[@]}" >&2 \
    || { die "mmdebstrap failed for $kind (its log is above); is $MIRROR reachable?"; }
  t1=$(date +%s.%N)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  write_manifest "$kind" "$tmp" "$out" "$secs"
  mv -f "$tmp.json" "$out.json"
  mv -f "$tmp" "$out"
  # Older builds of the same kind are unreachable now (their key no longer matches).
  find "$CACHE" -maxdepth 1 -name "$kind-*.tar.zst*" ! -name "$(basename "$out")*" -delete
  say "$kind: $(du -h "$out" | cut -f1) in $secs s -> $out"
}

# write_manifest KIND TARBALL FINAL_PATH SECONDS: <TARBALL>.json
write_manifest() {
  local kind=$1 tar=$2 final=$3 secs=$4 unpacked versions
  unpacked=$(tar -tvf "$tar" | awk '{ s += $3 } END { print s + 0 }')
  # "name version" of each installed package, from the rootfs's own dpkg database
  versions=$(tar -xOf "$tar" ./var/lib/dpkg/status | awk '
    /^Package: / { p = $2 } /^Version: / { v = $2 }
    /^$/ { if (p != "") printf "%s    \"%s\": \"%s\"", (n++ ? ",\n" : ""), p, v; p = "" }
    END { if (p != "") printf "%s    \"%s\": \"%s\"", (n++ ? ",\n" : ""), p, v }')
  cat >"$tar.json" <<EOF
{
  "kind": "$kind",
  "key": "$(cache_key "$kind")",
  "tarball": "$final",
  "bytes": $(stat -c %s "$tar"),
  "unpackedBytes": $unpacked,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": $secs,
  "builtOn": "$(nproc) cores, $(uname -r)",
  "suite": "$SUITE",
  "packages": {
$versions
  }
}
EOF
}

check=0 force=0 kinds=()
while [ $# -gt 0 ]; do
  case $1 in
    --check) check=1 ;;
    --force) force=1 ;;
    mariadb | wordpress) kinds+=("$1") ;;
    all) kinds+=(mariadb wordpress) ;;
    *) die "usage: build-rootfs.sh [--check] [--force] mariadb|wordpress|all" ;;
  esac
  shift
done
[ ${#kinds[@]} -gt 0 ] || die "usage: build-rootfs.sh [--check] [--force] mariadb|wordpress|all"

if [ $check = 1 ]; then
  rc=0
  for k in "${kinds[@]}"; do
    t=$(tarball_of "$k")
    if [ -f "$t" ]; then echo "FERRY_ROOTFS $k $t 0"; else say "$k: not cached ($t)"; rc=3; fi
  done
  exit $rc
fi

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode chroots and sets file owners)"
command -v mmdebstrap >/dev/null || die "mmdebstrap not found: apt-get install mmdebstrap (scripts/setup.sh installs it)"
command -v zstd >/dev/null || die "zstd not found: apt-get install zstd (scripts/setup.sh installs it)"
mkdir -p "$CACHE"
# One build at a time per cache (a test and a deploy may ask at once); the second waits, then
# finds the tarball built.
exec 9>"$CACHE/.lock"
flock 9
# Holding the lock, any partial tarball is ours: an interrupted build leaves none behind.
trap 'rm -f "$CACHE"/.partial-*' EXIT

for k in "${kinds[@]}"; do
  t=$(tarball_of "$k")
  if [ -f "$t" ] && [ $force = 0 ]; then
    say "$k: cached $t"
    echo "FERRY_ROOTFS $k $t 0"
  else
    build "$k"
    echo "FERRY_ROOTFS $k $t 1"
  fi
done
