#!/bin/bash
# Ferry QEMU lab, guest stage 2: PID 1 after the initramfs switch_root'ed onto the overlay
# (the host's root over 9p, read-only, under a tmpfs). Read from the host through 9p, so an edit
# here takes effect at the next boot without rebuilding the initramfs.
# Sets up a host that looks like any other Ferry host (root over SSH, criu, runc, rsync, haproxy,
# /var/lib/ferry, /run/ferry/runc, cgroup v1 controllers), then hands PID 1 to busybox init,
# which reaps orphans and respawns sshd.
# Kernel command line (set by qemu-lab.sh): ferry.name= ferry.ip=ADDR/24 ferry.state=DIR
#   ferry.labdir=DIR ferry.modules=DIR [ferry.route=SUBNET,GATEWAY (a two-cloud lab)]
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/console >/dev/console 2>&1

say() { echo "ferry-guest: [$(cut -d' ' -f1 /proc/uptime)] $*"; }
fail() { echo "ferry-guest: ERROR: $*"; sleep 1; exit 1; }  # PID 1 exits: panic, and QEMU (-no-reboot) stops
trap 'fail "line $LINENO: $BASH_COMMAND"' ERR

name='' ip='' state='' labdir='' modules='' route=''
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ferry.name=*) name=${arg#*=} ;;
    ferry.ip=*) ip=${arg#*=} ;;
    ferry.state=*) state=${arg#*=} ;;
    ferry.labdir=*) labdir=${arg#*=} ;;
    ferry.modules=*) modules=${arg#*=} ;;
    ferry.route=*) route=${arg#*=} ;;
  esac
done
[ -n "$name" ] && [ -n "$ip" ] && [ -n "$state" ] && [ -n "$labdir" ] || fail "kernel command line lacks ferry.name/ip/state/labdir"
say "stage 2 ($0) for $name"

# The shared lab library, read now: the checkout may lie under /tmp, which gets a fresh mount below.
# shellcheck source=../lib/sshd.sh
. "$(dirname "$0")/../lib/sshd.sh"

# Take what this host needs from the lab directory first: it may lie under /tmp, /run or /root,
# which get fresh mounts below.
install -d -m 700 /etc/ferry-boot
install -m 600 "$labdir/id_ed25519.pub" /etc/ferry-boot/authorized_keys
[ ! -s "$state/cgroups.layout" ] || install -m 644 "$state/cgroups.layout" /etc/ferry-boot/cgroups.layout
install -d -m 755 /etc/ferry-sshd
install -m 600 "$state/etc-ssh/ssh_host_ed25519_key" /etc/ferry-sshd/ssh_host_ed25519_key
install -m 644 "$state/etc-ssh/ssh_host_ed25519_key.pub" /etc/ferry-sshd/ssh_host_ed25519_key.pub

# This kernel's modules (the host's /lib/modules is for the host's kernel), so modprobe and the
# kernel's own module autoloading (sock_diag for CRIU, tun, ...) work.
if [ -n "$modules" ] && [ -d "$modules/$(uname -r)" ]; then
  mkdir -p /lib/modules
  mount --bind "$modules" /lib/modules
else
  say "warning: no modules for $(uname -r) at '$modules'"
fi

# The host's /run, /tmp and /root must not show through: fresh ones.
mount -t tmpfs -o mode=0755,nosuid,nodev ferry-run /run
mount -t tmpfs -o mode=1777,nosuid,nodev ferry-tmp /tmp
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null || true
# devtmpfs lacks the links udev would make (Ferry's engine pipes files through /dev/stdin).
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
ln -sfn /proc/kcore /dev/core

# /dev/net/tun appears only once tun is loaded (criu check probes it).
modprobe -q tun 2>/dev/null || true

# cgroups as the host has them (qemu-lab.sh wrote the host's layout into the state dir): here v1
# controllers each on its own mount, a name=systemd hierarchy and cgroup2 at /sys/fs/cgroup/unified.
mount -t tmpfs -o mode=0755,nosuid,nodev,noexec cgroup /sys/fs/cgroup
layout=/etc/ferry-boot/cgroups.layout
if [ ! -s "$layout" ]; then
  say "warning: no $state/cgroups.layout, mounting the default v1 controllers"
  for c in cpu,cpuacct cpuset memory devices freezer blkio pids; do echo "cgroup $c rw,$c"; done >/run/cgroups.default
  layout=/run/cgroups.default
fi
while read -r kind dir opts; do
  case "$kind" in
    cgroup)
      mkdir -p "/sys/fs/cgroup/$dir"
      # A named hierarchy without controllers (name=systemd) needs 'none' on this kernel.
      mount -t cgroup -o "$opts" cgroup "/sys/fs/cgroup/$dir" 2>/dev/null \
        || mount -t cgroup -o "none,$opts" cgroup "/sys/fs/cgroup/$dir" \
        || say "warning: cannot mount cgroup $dir ($opts)" ;;
    cgroup2)
      mkdir -p "/sys/fs/cgroup/$dir"
      mount -t cgroup2 -o "$opts" cgroup2 "/sys/fs/cgroup/$dir" || say "warning: cannot mount cgroup2 at $dir" ;;
    link) ln -sfn "$opts" "/sys/fs/cgroup/$dir" ;;
  esac
done <"$layout"
# CRIU freezes a container through the v1 freezer, or cgroup.freeze on a cgroup v2-only host.
[ -f /sys/fs/cgroup/freezer/tasks ] || [ -f /sys/fs/cgroup/cgroup.controllers ] \
  || fail "no cgroup freezer (v1 freezer or cgroup v2 at /sys/fs/cgroup): CRIU cannot freeze containers"

# Ferry's state on a local filesystem of the guest's own, like a real host's disk. (Not 9p: CRIU's
# lazy-pages daemon binds a unix socket in its work dir, and 9p cannot hold one: ENXIO.)
mkdir -p /var/lib/ferry
mount -t tmpfs -o mode=0755,nosuid,nodev ferry-state /var/lib/ferry
mkdir -p /run/ferry/runc /run/sshd /run/netns
chmod 755 /run/sshd

sysctl -qw fs.pipe-max-size=8388608
hostname "$name"
echo "$name" >/etc/hostname
ip link set lo up
ip addr add "$ip" dev eth0
ip link set eth0 up
# A two-cloud lab: the other cloud only through this cloud's gateway, at the tunnel's MTU.
[ -z "$route" ] || ip route add "${route%,*}" via "${route#*,}" mtu 1420

# root's own home: the controller's key, and a bare .bashrc (the host's runs pyenv: seconds per command).
mount -t tmpfs -o mode=0700 ferry-root /root
install -d -m 700 /root/.ssh
install -m 600 /etc/ferry-boot/authorized_keys /root/.ssh/authorized_keys
printf '# ferry qemu lab host %s\n' "$name" >/root/.bashrc
printf '[ -f ~/.bashrc ] && . ~/.bashrc\n' >/root/.profile

# sshd with the host key the controller pinned (generated by qemu-lab.sh in the state dir, copied above).
lab_sshd_config "${ip%/*}" /etc/ferry-sshd/ssh_host_ed25519_key /run/sshd.pid >/etc/ferry-sshd/sshd_config
/usr/sbin/sshd -t -f /etc/ferry-sshd/sshd_config || fail "sshd rejects its configuration"

# The lab directory holds the controller's private key and the other hosts' keys: hide it (the
# mounts above are already made, so /lib/modules and /var/lib/ferry stay even if they lie under it).
case "$labdir" in
  / | /var | /var/lib | /var/cache | /usr | /etc) say "warning: not hiding lab directory $labdir" ;;
  *) [ ! -d "$labdir" ] || mount -t tmpfs -o ro,mode=0700 ferry-hidden "$labdir" ;;
esac

cat >/etc/inittab <<TAB
::respawn:/bin/sh -c '/usr/sbin/sshd -D -e -f /etc/ferry-sshd/sshd_config; sleep 1'
::ctrlaltdel:/bin/busybox poweroff -f
TAB
say "host $name up: ${ip} ($(uname -r)), sshd starting"
trap - ERR
exec /bin/busybox init
