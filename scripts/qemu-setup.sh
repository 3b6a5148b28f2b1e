#!/usr/bin/env bash
# Prepares what the QEMU lab (terraform/qemu) boots: a stock Debian kernel (it has soft-dirty
# tracking, which CRIU's pre-dumps need and this machine's kernel lacks) and a small busybox
# initramfs that mounts the host's root over 9p under a tmpfs overlay.
# Idempotent: every step checks first and says what it does. Run as root.
#
#   FERRY_CACHE_DIR    cache root (default /var/cache/ferry); this script uses $FERRY_CACHE_DIR/qemu
#   FERRY_QEMU_KERNEL  kernel package to use instead of the one linux-image-amd64 depends on
#
# Result: $FERRY_CACHE_DIR/qemu/current.env (read by terraform/qemu/qemu-lab.sh), naming
#   KVER      the kernel release, e.g. 6.1.0-56-amd64
#   KERNEL    .../kernel-KVER/boot/vmlinuz-KVER
#   INITRD    .../initrd-KVER-HASH.img
#   MODULES   .../kernel-KVER/lib/modules (bind-mounted at /lib/modules in the guest, so modprobe works)
set -euo pipefail

CACHE="${FERRY_CACHE_DIR:-/var/cache/ferry}/qemu"
say() { printf '[qemu-setup] %s\n' "$*"; }
die() { printf '[qemu-setup] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, and the QEMU lab needs taps and 9p passthrough)"
command -v apt-get >/dev/null || die "apt-get not found: the QEMU lab's setup supports Debian 12 (bookworm)"

# The modules the initramfs loads (with their dependencies): virtio PCI, 9p over virtio, overlayfs,
# the network card. A module the kernel has built in is skipped.
INITRD_MODULES=(virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
  9pnet 9pnet_virtio netfs fscache 9p overlay failover net_failover virtio_net)

# --- packages ---------------------------------------------------------------------------------
PKGS=(qemu-system-x86 kmod cpio busybox-static xz-utils)
declare -A NEED=([qemu-system-x86]=qemu-system-x86_64 [kmod]=depmod [cpio]=cpio [busybox-static]=/bin/busybox [xz-utils]=xz)
# shellcheck source=lib/apt.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/apt.sh"
ensure_packages "${PKGS[@]}"
for p in "${PKGS[@]}"; do
  command -v "${NEED[$p]}" >/dev/null || die "package $p is installed but ${NEED[$p]} is missing"
done
busybox --list 2>/dev/null | grep -qx switch_root || die "/bin/busybox has no switch_root applet (need busybox-static)"
[ -e /dev/net/tun ] || die "/dev/net/tun is missing: the QEMU lab needs tap devices (modprobe tun)"

mkdir -p "$CACHE/debs"

# --- which kernel -----------------------------------------------------------------------------
kernel_pkg() {
  if [ -n "${FERRY_QEMU_KERNEL:-}" ]; then echo "$FERRY_QEMU_KERNEL"; return; fi
  apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
pkg=$(kernel_pkg)
if [ -z "$pkg" ]; then
  say "apt does not know linux-image-amd64 yet: apt-get update"
  apt-get update -qq || true
  pkg=$(kernel_pkg)
fi
if [ -z "$pkg" ]; then
  # Offline with a warm cache: keep using what is there.
  if [ -f "$CACHE/current.env" ]; then
    say "cannot resolve linux-image-amd64 (apt offline?): keeping the cached kernel"
    cat "$CACHE/current.env"
    exit 0
  fi
  die "cannot find the kernel package: 'apt-cache depends linux-image-amd64' names no linux-image-*-amd64"
fi
kver=${pkg#linux-image-}
tree="$CACHE/kernel-$kver"

# --- the kernel package, unpacked -------------------------------------------------------------
if [ -f "$tree/.complete" ]; then
  say "kernel $kver present in $tree"
else
  deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$deb" ]; then
    say "downloading $pkg (about 70 MB) with apt-get download"
    # apt drops to the _apt user for downloads: give it the directory, or it warns and retries as root.
    chown _apt "$CACHE/debs" 2>/dev/null || true
    (cd "$CACHE/debs" && apt-get download -q "$pkg" >/dev/null) || die "apt-get download $pkg failed"
    deb=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$deb" ] || die "apt-get download $pkg left no .deb in $CACHE/debs"
  fi
  say "unpacking $(basename "$deb") into $tree"
  rm -rf "$tree.tmp"
  dpkg-deb -x "$deb" "$tree.tmp" || die "dpkg-deb -x $deb failed"
  [ -f "$tree.tmp/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
  [ -d "$tree.tmp/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
  grep -qx 'CONFIG_MEM_SOFT_DIRTY=y' "$tree.tmp/boot/config-$kver" \
    || die "kernel $kver is built without CONFIG_MEM_SOFT_DIRTY: CRIU pre-dumps would not work in the lab"
  say "depmod -b for $kver"
  depmod -b "$tree.tmp" "$kver" || die "depmod -b $tree.tmp $kver failed"
  touch "$tree.tmp/.complete"
  rm -rf "$tree"
  mv "$tree.tmp" "$tree"
fi
moddir="$tree/lib/modules/$kver"

# --- the initramfs ----------------------------------------------------------------------------
# Stage 1 (/init in the initramfs): load the modules, mount the host's root (9p, read-only) under a
# tmpfs overlay, switch_root into it and run the stage-2 script named by ferry.init= (the lab's
# guest-init.sh, read from the host through 9p, so changing it needs no rebuild here).
read -r -d '' STAGE1 <<'INIT' || true
#!/bin/busybox sh
# Ferry QEMU lab, initramfs stage 1 (built by scripts/qemu-setup.sh).
export PATH=/bin
fail() { echo "ferry-initramfs: ERROR: $*" >/dev/console; sleep 1; exit 1; }  # PID 1 exits: panic, QEMU stops (-no-reboot)
mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
init=/sbin/init; msize=262144
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ferry.init=*) init=${arg#ferry.init=} ;;
    ferry.msize=*) msize=${arg#ferry.msize=} ;;
  esac
done
while read -r m; do
  [ -n "$m" ] || continue
  insmod "/modules/$m.ko" || fail "insmod $m"
done </modules/order
mkdir -p /lower /rw /newroot
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=$msize,cache=loose hostroot /lower || fail "mount 9p hostroot (is -virtfs ...mount_tag=hostroot given?)"
mount -t tmpfs -o mode=0755 ferry-rw /rw || fail "mount tmpfs for the overlay"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot || fail "mount overlay"
[ -x "/newroot$init" ] || fail "stage 2 $init is not executable on the host's root"
for d in dev proc sys; do mount --move /$d /newroot/$d || fail "move /$d"; done
exec switch_root /newroot "$init"
INIT

# The load order comes from this kernel's modules.dep (modprobe --show-depends): it changes between
# kernel builds (6.1.0-56's virtio needs virtio_ring first, unlike the order an earlier build needed).
order=(); modfile=()
for m in "${INITRD_MODULES[@]}"; do
  deps=$(modprobe -d "$tree" -S "$kver" --show-depends "$m" 2>&1) || die "module $m is not in kernel $kver: $deps"
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue   # 'builtin NAME' lines need nothing
    n=${path##*/}; n=${n%%.ko*}
    [[ " ${order[*]} " == *" $n "* ]] && continue
    order+=("$n"); modfile+=("$path")
  done <<<"$deps"
done
hash=$( { printf '%s\n' "$STAGE1" "${order[@]}"; sha256sum /bin/busybox; } | sha256sum | cut -c1-12)
initrd="$CACHE/initrd-$kver-$hash.img"
if [ -f "$initrd" ]; then
  say "initramfs present: $initrd"
else
  say "building the initramfs (busybox-static + ${order[*]})"
  work=$(mktemp -d "$CACHE/initrd.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work"/{bin,dev,proc,sys,modules}
  cp /bin/busybox "$work/bin/busybox"
  for a in sh mount insmod mkdir sleep cat switch_root echo; do ln -s busybox "$work/bin/$a"; done
  printf '%s\n' "$STAGE1" >"$work/init"
  chmod 755 "$work/init"
  : >"$work/modules/order"
  for i in "${!order[@]}"; do
    m=${order[$i]}; f=${modfile[$i]}
    case "$f" in
      *.ko) cp "$f" "$work/modules/$m.ko" ;;
      *.ko.xz) xz -dc "$f" >"$work/modules/$m.ko" ;;
      *.ko.zst) command -v zstd >/dev/null || die "module $m is zstd-compressed: install zstd"; zstd -qdc "$f" >"$work/modules/$m.ko" ;;
      *) die "module $m: unknown file $f" ;;
    esac
    echo "$m" >>"$work/modules/order"
  done
  (cd "$work" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) >"$initrd.tmp" || die "cpio/gzip of the initramfs failed"
  mv "$initrd.tmp" "$initrd"
  rm -rf "$work"; trap - EXIT
  say "initramfs built: $initrd ($(du -h "$initrd" | cut -f1))"
fi

# --- the pointer the lab reads ----------------------------------------------------------------
env_new=$(printf 'KVER=%s\nKERNEL=%s\nINITRD=%s\nMODULES=%s\n' "$kver" "$tree/boot/vmlinuz-$kver" "$initrd" "$tree/lib/modules")
if [ "$(cat "$CACHE/current.env" 2>/dev/null)" != "$env_new" ]; then
  printf '%s\n' "$env_new" >"$CACHE/current.env.tmp"
  mv "$CACHE/current.env.tmp" "$CACHE/current.env"
  say "wrote $CACHE/current.env"
fi
# Older initramfs builds for this kernel are stale; kernels are kept (a running VM may use one).
for f in "$CACHE"/initrd-"$kver"-*.img; do
  [ "$f" = "$initrd" ] || rm -f "$f"
done
say "ready: kernel $kver (soft-dirty), $(basename "$initrd")"
