#!/usr/bin/env bash
# Turns a fresh Debian 12 machine into one that can run Ferry and its lab.
# Idempotent: every step checks first and says what it does. Run as root.
set -euo pipefail

# CRIU: >= 4.2 (Debian 12's 3.17 fails on current kernels' vDSO; 4.1 hangs curing the parasite on
# kernels >= 6.16). Built from the newest Debian source package that is at least CRIU_MIN, or exactly
# FERRY_CRIU_VERSION (an upstream version such as 4.2.1) when set; FERRY_CRIU_SHA256 additionally pins
# the tarball's checksum.
CRIU_MIN=4.2
CRIU_VERSION="${FERRY_CRIU_VERSION:-}"
CRIU_SHA256="${FERRY_CRIU_SHA256:-}"
CACHE="${FERRY_CACHE_DIR:-/var/cache/ferry}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (Ferry's lab creates network namespaces and runs CRIU)"
command -v apt-get >/dev/null || die "apt-get not found: Ferry's setup supports Debian 12 (bookworm)"

# shellcheck source=lib/apt.sh
. "$HERE/scripts/lib/apt.sh"
# shellcheck source=lib/prereqs.sh
. "$HERE/scripts/lib/prereqs.sh"
# shellcheck source=lib/criu-source.sh
. "$HERE/scripts/lib/criu-source.sh"

# First what Debian 12 does not have: Node.js >= 20.10 and Terraform (or OpenTofu), from their
# vendors' Debian repositories where those are reachable, else one message saying how. curl fetches
# the vendors' keys.
command -v curl >/dev/null || ensure_packages curl ca-certificates
require_node
require_terraform

# python3-apt: Ansible's apt module needs it on the host it manages (test/infra/cloud-host-check
# runs playbooks/cloud-host.yml --check against this machine; check mode cannot install it itself).
# podman: the benchmark's peer (ferry bench moves the same workload with it; it uses the runc and
# the CRIU >= 4.2 below through PATH). iperf3: the benchmark's link measurement.
RUNTIME_PKGS=(runc rsync redis-server haproxy ansible-core python3-apt openssh-server openssh-client
  busybox-static iproute2 iperf3 socat curl ca-certificates xz-utils util-linux procps kmod
  gcc libc6-dev make git fonts-dejavu-core
  # image archives and OCI layouts become bundles on the controller (src/workloads/)
  skopeo umoci
  # the paper's WordPress + MariaDB root filesystems, built from Debian's packages (scripts/build-rootfs.sh)
  mmdebstrap zstd
  # the benchmark's peer: Podman checkpoint/restore with the same CRIU (src/bench/podman.ts)
  podman
  # nftables: the page-port guard on every host (the lab's hosts use this machine's nft); openssl:
  # the environment's CA and host certificates for CRIU's TLS; tcpdump: captures in the security tests
  nftables openssl tcpdump
  # the two-cloud lab's tunnel between its gateways (terraform/lib/wan.sh; this kernel has no
  # WireGuard module, so the userspace implementation) and its wg tool
  wireguard-go wireguard-tools)
CRIU_BUILD_PKGS=(libbsd-dev libcap-dev libgnutls28-dev libnet1-dev libnftables-dev libnl-3-dev
  libprotobuf-c-dev libprotobuf-dev pkgconf protobuf-c-compiler protobuf-compiler python3-protobuf
  uuid-dev dpkg-dev debian-archive-keyring gpgv)

ensure_packages "${RUNTIME_PKGS[@]}" "${CRIU_BUILD_PKGS[@]}"
# The Debian services started by the packages are not Ferry's: the lab runs its own sshd per host,
# and tests start their own Redis. Stop the system ones only if this script started them is not
# knowable, so leave them alone.

criu_ok() {
  command -v criu >/dev/null || return 1
  local v; v="$(criu --version 2>/dev/null | sed -n 's/^Version: *//p')"
  [ -n "$v" ] || return 1
  # >= 4.2: Debian 12's 3.17 fails on this kernel's vDSO and 4.1 hangs curing the parasite.
  [ "$(printf '%s\n4.2\n' "$v" | sort -V | head -n1)" = "4.2" ]
}

if criu_ok; then
  say "criu $(criu --version | sed -n 's/^Version: *//p') present at $(command -v criu)"
else
  say "fetching CRIU's source from Debian (${CRIU_VERSION:-the newest >= $CRIU_MIN}), verified from Debian's archive key to the tarball"
  fetched="$(criu_fetch_source "$CACHE" "$CRIU_MIN" "$CRIU_VERSION")" || exit 1
  version="${fetched%% *}" tarball="${fetched#* }"
  if [ -n "$CRIU_SHA256" ]; then
    echo "$CRIU_SHA256  $tarball" | sha256sum -c --status || die "$tarball does not have the pinned FERRY_CRIU_SHA256 $CRIU_SHA256"
  fi
  say "building CRIU $version (about a minute)"
  build="$CACHE/src/build-$version"
  rm -rf "$build"; mkdir -p "$build"
  tar -xf "$tarball" -C "$build" --strip-components=1
  make -C "$build" -j"$(nproc)" criu >"$CACHE/src/criu-build.log" 2>&1 \
    || { tail -n 30 "$CACHE/src/criu-build.log" >&2; die "CRIU build failed (log: $CACHE/src/criu-build.log)"; }
  install -m 0755 "$build/criu/criu" /usr/local/sbin/criu
  hash -r
  criu_ok || die "installed /usr/local/sbin/criu but it does not report version >= $CRIU_MIN"
  say "installed criu $version at /usr/local/sbin/criu"
fi

# The lazy-pages server needs pipes larger than the 1 MiB default: without CAP_SYS_RESOURCE CRIU cannot
# grow its pipe and post-copy fails mid-transfer with `page-pipe: splice: … Bad file descriptor`.
if [ "$(cat /proc/sys/fs/pipe-max-size)" -lt 8388608 ]; then
  say "raising fs.pipe-max-size to 8 MiB for CRIU's lazy page server"
  sysctl -qw fs.pipe-max-size=8388608
fi

# The workloads' helper binary (memory ballast and counter), built static so it runs in a bare rootfs.
mkdir -p "$HERE/build"
if [ ! -x "$HERE/build/ferry-ballast" ] || [ "$HERE/workloads/ballast.c" -nt "$HERE/build/ferry-ballast" ]; then
  say "building the workload helper build/ferry-ballast"
  gcc -O2 -static -Wall -Werror -o "$HERE/build/ferry-ballast" "$HERE/workloads/ballast.c" \
    || die "could not build workloads/ballast.c (needs gcc and libc6-dev)"
fi

if [ ! -d "$HERE/node_modules" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  say "installing npm dependencies"
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
else
  say "npm dependencies present"
fi
say "ready"
