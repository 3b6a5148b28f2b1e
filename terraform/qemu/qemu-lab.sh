#!/usr/bin/env bash
# The QEMU lab's host plumbing, driven by Terraform's local-exec (terraform/qemu/main.tf).
# Each host: a QEMU VM (TCG, no KVM needed) booting a stock Debian kernel with soft-dirty tracking,
# its root the controller's own root over 9p (read-only, under a tmpfs overlay), its own
# /var/lib/ferry (tmpfs in the guest), and a tap on the lab bridge. The guest runs the controller's own criu, runc, rsync, haproxy and sshd.
#   qemu-lab.sh bridge-up   BRIDGE GATEWAY_CIDR SUBNET
#   qemu-lab.sh bridge-down BRIDGE SUBNET
#   qemu-lab.sh host-up     NAME ADDRESS_CIDR BRIDGE LAB_DIR [MEMORY_MB [BOOT_TIMEOUT_S [CACHE_DIR [ROUTE]]]]
#   qemu-lab.sh host-down   NAME LAB_DIR
#   qemu-lab.sh host-heal   NAME ADDRESS_CIDR BRIDGE LAB_DIR [MEMORY_MB [BOOT_TIMEOUT_S [CACHE_DIR [ROUTE]]]]
#                           (a running VM whose sshd is slow is waited for; a dead one is rebooted)
#   qemu-lab.sh host-check  NAME LAB_DIR [BRIDGE]   (exit 0 when the VM runs, its tap is on the
#                           bridge and its sshd answers)
#   qemu-lab.sh sweep       LAB_DIR BRIDGE          (for 'lab down' after terraform destroy: kill
#                           every VM whose state is under LAB_DIR/hosts, delete the fq- taps on
#                           BRIDGE and the fq- taps on no bridge that no QEMU holds)
# CACHE_DIR is where scripts/qemu-setup.sh left the kernel and initramfs (its current.env).
# ROUTE (a two-cloud lab): SUBNET,GATEWAY, the other cloud's /24 and this cloud's gateway; the
# guest adds it at boot (guest-init.sh). '' or '-' for none.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GUEST_INIT="$HERE/guest-init.sh"
DEFAULT_CACHE="${FERRY_CACHE_DIR:-/var/cache/ferry}/qemu"

say() { printf '[qemu-lab] %s\n' "$*" >&2; }
die() { printf '[qemu-lab] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=../lib/bridge.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/bridge.sh"

# Interface names are limited to 15 characters.
tap_of() { echo "fq-${1:0:12}"; }
state_of() { echo "$2/hosts/$1"; }
# A stable MAC from the address, so two labs' VMs never share one: 52:54:a:b:c:d.
mac_of() { local IFS=.; set -- $1; printf '52:54:%02x:%02x:%02x:%02x' "$1" "$2" "$3" "$4"; }

# The QEMU processes of one host, found by their pid-file argument (never by a broad name).
qemu_pids_of_state() {
  local state=$1 p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    case "$cmd" in
      *qemu-system-x86_64*"-pidfile $state/qemu.pid "*) echo "${p#/proc/}" ;;
    esac
  done
}

kill_vm() {
  local state=$1 pids i
  pids=$(qemu_pids_of_state "$state")
  [ -n "$pids" ] || { rm -f "$state/qemu.pid"; return 0; }
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 1 50); do
    pids=$(qemu_pids_of_state "$state")
    [ -n "$pids" ] || break
    sleep 0.1
  done
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  for i in $(seq 1 50); do
    [ -n "$(qemu_pids_of_state "$state")" ] || break
    sleep 0.1
  done
  rm -f "$state/qemu.pid"
}

vm_pid() {
  local state=$1 pid
  [ -f "$state/qemu.pid" ] || return 1
  pid=$(cat "$state/qemu.pid")
  qemu_pids_of_state "$state" | grep -qx "$pid" || return 1
  echo "$pid"
}

ssh_answers() {
  local addr=$1 banner
  banner=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/22" && head -c 4 <&3' _ "$addr" 2>/dev/null) || return 1
  [ "$banner" = "SSH-" ]
}

host_down() {
  local name=$1 labdir=$2 state
  state=$(state_of "$name" "$labdir")
  kill_vm "$state"
  ip link del "$(tap_of "$name")" 2>/dev/null || true
  rm -rf "$state"
}

# The host's cgroup mounts, for the guest to mount the same (see guest-init.sh).
cgroup_layout() {
  awk '$3 == "cgroup2" && $2 == "/sys/fs/cgroup" { print "cgroup2", ".", $4; next }
       $3 == "cgroup" && index($2, "/sys/fs/cgroup/") == 1 { print "cgroup", substr($2, 16), $4 }
       $3 == "cgroup2" && index($2, "/sys/fs/cgroup/") == 1 { print "cgroup2", substr($2, 16), $4 }' /proc/self/mounts
  local l
  for l in /sys/fs/cgroup/*; do
    [ -L "$l" ] && echo "link ${l##*/} $(readlink "$l")"
  done
  return 0
}

host_up() {
  local name=$1 cidr=$2 br=$3 labdir=$4 mem=${5:-1536} timeout=${6:-120} cache=${7:-$DEFAULT_CACHE} route=${8:-}
  local tap state addr KVER="" KERNEL="" INITRD="" MODULES="" pid start routearg=
  tap=$(tap_of "$name"); state=$(state_of "$name" "$labdir"); addr=${cidr%/*}
  [[ $name =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "bad host name '$name'"
  [[ $mem =~ ^[0-9]+$ ]] && [ "$mem" -ge 256 ] || die "memory_mb must be a number >= 256 (got '$mem')"
  ip link show "$br" >/dev/null 2>&1 || die "bridge $br is missing: run 'ferry lab up' (it creates the bridge first)"
  [ -f "$labdir/id_ed25519.pub" ] || die "controller key $labdir/id_ed25519.pub is missing"
  command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing: run scripts/qemu-setup.sh"
  [ -f "$cache/current.env" ] || die "no kernel for the QEMU lab ($cache/current.env is missing): run scripts/qemu-setup.sh"
  # shellcheck disable=SC1091
  . "$cache/current.env"
  for f in "$KERNEL" "$INITRD" "$MODULES/$KVER/modules.dep"; do
    [ -f "$f" ] || die "$f is missing: run scripts/qemu-setup.sh"
  done
  [ -x "$GUEST_INIT" ] || die "$GUEST_INIT is missing or not executable"
  [ -e /dev/net/tun ] || die "/dev/net/tun is missing (modprobe tun)"
  if [ -n "$route" ] && [ "$route" != - ]; then
    lab_route_check "$route"
    routearg=" ferry.route=$route"
  fi

  # Recover from a half-torn host: keep its state directories (host key, images), replace the VM.
  kill_vm "$state"
  ip link del "$tap" 2>/dev/null || true

  mkdir -p "$state"/{etc-ssh,log}
  [ -f "$state/etc-ssh/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$state/etc-ssh/ssh_host_ed25519_key"
  cgroup_layout >"$state/cgroups.layout"

  say "host $name: VM ($KVER, ${mem} MiB, TCG), $cidr on $br via $tap"
  ip tuntap add dev "$tap" mode tap
  ip link set "$tap" master "$br" up

  : >"$state/log/console.log"
  start=$(date +%s.%N)
  # Detached: its own session, stdio on the console log, so Terraform does not wait for it.
  # TCG notes: tb-size bounds the translated-code cache (the 1 GiB default grew each VM to 1.4 GB
  # RSS); la57=off keeps 4-level page tables (cheaper software page walks); mitigations=off, as
  # TCG does not speculate. The NIC's iPXE option ROM is skipped (no network boot).
  setsid qemu-system-x86_64 -name "ferry-$name" -accel tcg,tb-size=256 -cpu max,la57=off -m "$mem" -smp 1 \
    -nographic -no-reboot \
    -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 panic=-1 quiet mitigations=off ferry.name=$name ferry.ip=$cidr ferry.state=$state ferry.labdir=$labdir ferry.modules=$MODULES ferry.init=$GUEST_INIT$routearg" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap \
    -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=$(mac_of "$addr"),romfile=" \
    -pidfile "$state/qemu.pid" \
    </dev/null >>"$state/log/console.log" 2>&1 &
  pid=$!
  if ! wait_ssh "$name" "$addr" "$state" "$timeout" "$pid" "$start"; then
    # Leave no half-booted VM behind: Terraform marks the host tainted and replaces it next time.
    kill_vm "$state"
    ip link del "$tap" 2>/dev/null || true
    die "host $name did not come up (console: $state/log/console.log)"
  fi
}

# The console's last lines, without the indented lines of kernel stack traces.
console_tail() {
  grep -av '^\[ *[0-9.]*\]  ' "$1/log/console.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' | tail -n 30 >&2 || true
}

# Waits for the VM's sshd. On failure (QEMU exited, or no answer in time) prints the console's
# tail and the reason, and returns 1.
wait_ssh() {
  local name=$1 addr=$2 state=$3 timeout=$4 pid=$5 start=$6 deadline
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    if ssh_answers "$addr"; then
      say "host $name: sshd up after $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s (qemu pid $pid)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      console_tail "$state"
      say "host $name: QEMU exited during boot (console: $state/log/console.log)"
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      console_tail "$state"
      say "host $name: sshd on $addr:22 did not answer within ${timeout} s (console: $state/log/console.log)"
      return 1
    fi
    sleep 1
  done
}

host_check() {
  local name=$1 labdir=$2 br=${3:-} state tap addr
  state=$(state_of "$name" "$labdir"); tap=$(tap_of "$name")
  vm_pid "$state" >/dev/null || { say "host $name: QEMU is not running"; return 1; }
  ip link show "$tap" >/dev/null 2>&1 || { say "host $name: tap $tap is missing"; return 1; }
  if [ -n "$br" ] && ! ip link show "$tap" | grep -q "master $br "; then
    say "host $name: tap $tap is not on bridge $br"; return 1
  fi
  addr=$(tr '\0' ' ' <"/proc/$(vm_pid "$state")/cmdline" 2>/dev/null | grep -o 'ferry\.ip=[0-9.]*' | head -n1 | cut -d= -f2 || true)
  if [ -n "$addr" ] && ! ssh_answers "$addr"; then
    say "host $name: sshd on $addr:22 does not answer"; return 1
  fi
  return 0
}

host_heal() {
  local name=$1 cidr=$2 br=$3 labdir=$4 timeout=${6:-120} state tap pid
  state=$(state_of "$name" "$labdir"); tap=$(tap_of "$name")
  if pid=$(vm_pid "$state") && ip link show "$tap" 2>/dev/null | grep -q "master $br "; then
    # A VM that still runs keeps its containers: wait for its sshd (busybox init respawns it).
    say "host $name: VM running (pid $pid), waiting for sshd"
    wait_ssh "$name" "${cidr%/*}" "$state" "$timeout" "$pid" "$(date +%s.%N)" && return 0
    say "host $name: rebooting its VM"
  fi
  host_up "$@"
}

# What Terraform may not know about: VMs of this lab dir and fq- taps on this bridge.
sweep() {
  local labdir=$1 br=$2 d tap info
  for d in "$labdir"/hosts/*/; do
    [ -d "$d" ] || continue
    [ -z "$(qemu_pids_of_state "${d%/}")" ] || { say "sweeping VM ${d%/}"; kill_vm "${d%/}"; }
  done
  for tap in $(ip -o link show type tun 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep '^fq-' || true); do
    # Ours: on this bridge, or on no bridge and held by no QEMU (no LOWER_UP).
    info=$(ip link show "$tap" 2>/dev/null) || continue
    if [[ $info == *" master $br "* ]] || { [[ $info != *" master "* ]] && [[ $info != *LOWER_UP* ]]; }; then
      say "sweeping tap $tap"
      ip link del "$tap" 2>/dev/null || true
    fi
  done
}

cmd=${1:-}; shift || true
case "$cmd" in
  bridge-up) bridge_up "$@" ;;
  bridge-down) bridge_down "$@" ;;
  host-up) host_up "$@" ;;
  host-down) host_down "$@" ;;
  host-check) host_check "$@" ;;
  host-heal) host_heal "$@" ;;
  sweep) sweep "$@" ;;
  *) die "usage: qemu-lab.sh bridge-up|bridge-down|host-up|host-down|host-check|host-heal|sweep ..." ;;
esac
