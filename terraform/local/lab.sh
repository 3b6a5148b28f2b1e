#!/usr/bin/env bash
# The namespace lab's host plumbing, driven by Terraform's local-exec (terraform/local/main.tf).
# Each host: a network namespace on a bridge, its own sshd, and a private mount namespace where
# its own state directories are bind-mounted at the paths a real host uses.
#   lab.sh bridge-up   BRIDGE GATEWAY_CIDR SUBNET
#   lab.sh bridge-down BRIDGE SUBNET
#   lab.sh host-up     NAME ADDRESS_CIDR BRIDGE LAB_DIR [ROUTE]
#   lab.sh host-down   NAME LAB_DIR
#   lab.sh host-heal   NAME ADDRESS_CIDR BRIDGE LAB_DIR [ROUTE]   (restart what died, keep containers)
#   lab.sh host-check  NAME LAB_DIR      (exit 0 when the host is whole)
# ROUTE (a two-cloud lab): SUBNET,GATEWAY, the other cloud's /24 and this cloud's gateway.
set -euo pipefail

say() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=../lib/bridge.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/bridge.sh"
# shellcheck source=../lib/sshd.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/sshd.sh"

ns_of() { echo "ferry-$1"; }
# Interface names are limited to 15 characters.
veth_of() { echo "fv-${1:0:12}"; }
state_of() { echo "$2/hosts/$1"; }

kill_host_processes() {
  local ns=$1 state=$2 pids
  # Everything in the host's network namespace: sshd, sessions, page servers and the containers
  # themselves (they share it).
  if [ -e "/run/netns/$ns" ]; then
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  fi
  if [ -f "$state/sshd.pid" ]; then
    kill -9 "$(cat "$state/sshd.pid")" 2>/dev/null || true
    rm -f "$state/sshd.pid"
  fi
}

clean_cgroups() {
  local name=$1 c d pids
  for c in /sys/fs/cgroup/*/; do
    d="${c}ferry/$name"
    [ -d "$d" ] || continue
    # Thaw first: a frozen task cannot die.
    find "$d" -depth -name freezer.state -exec sh -c 'echo THAWED > "$1" 2>/dev/null' _ {} \; 2>/dev/null || true
    pids=$(find "$d" -name tasks -exec cat {} + 2>/dev/null || true)
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  done
  for i in 1 2 3 4 5 6 7 8 9 10; do
    local left=0
    for c in /sys/fs/cgroup/*/; do
      d="${c}ferry/$name"
      [ -d "$d" ] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || left=1
      [ -d "$d" ] && left=1
    done
    [ $left = 0 ] && break
    sleep 0.2
  done
  for c in /sys/fs/cgroup/*/; do rmdir "${c}ferry" 2>/dev/null || true; done
}

umount_under() {
  local dir=$1 m
  # Deepest first; lazy so a busy mount cannot keep the lab from coming down.
  for m in $(awk -v d="$dir" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}

host_down() {
  local name=$1 labdir=$2 ns veth state
  ns=$(ns_of "$name"); veth=$(veth_of "$name"); state=$(state_of "$name" "$labdir")
  kill_host_processes "$ns" "$state"
  clean_cgroups "$name"
  umount_under "$state"
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
  rm -rf "$state"
}

host_up() {
  local name=$1 cidr=$2 br=$3 labdir=$4 route=${5:-} ns veth state addr
  ns=$(ns_of "$name"); veth=$(veth_of "$name"); state=$(state_of "$name" "$labdir"); addr=${cidr%/*}
  [[ $name =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "bad host name '$name'"
  ip link show "$br" >/dev/null 2>&1 || die "bridge $br is missing: run 'ferry lab up' (it creates the bridge first)"
  [ -f "$labdir/id_ed25519.pub" ] || die "controller key $labdir/id_ed25519.pub is missing"

  # Recover from a half-torn host: keep its state directories, replace everything else.
  kill_host_processes "$ns" "$state"
  umount_under "$state"
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true

  say "host $name: namespace $ns, $cidr on $br"
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$br" up
  nsenter --net="/run/netns/$ns" ip link set lo up
  nsenter --net="/run/netns/$ns" ip addr add "$cidr" dev eth0
  nsenter --net="/run/netns/$ns" ip link set eth0 up
  if [ -n "$route" ]; then
    # The other cloud only through this cloud's gateway, at the tunnel's MTU (WireGuard's 1420).
    lab_route_check "$route"
    nsenter --net="/run/netns/$ns" ip route add "${route%,*}" via "${route#*,}" mtu 1420
  fi

  start_sshd "$name" "$addr" "$labdir"
}

start_sshd() {
  local name=$1 addr=$2 labdir=$3 ns state
  ns=$(ns_of "$name"); state=$(state_of "$name" "$labdir")
  mkdir -p "$state"/{root/.ssh,run,var-lib-ferry,etc-ssh,log}
  chmod 700 "$state/root" "$state/root/.ssh"
  [ -f "$state/etc-ssh/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$state/etc-ssh/ssh_host_ed25519_key"
  install -m 600 "$labdir/id_ed25519.pub" "$state/root/.ssh/authorized_keys"
  # A bare profile: root's real .bashrc runs pyenv init, which costs seconds per SSH command.
  printf '# ferry lab host %s\n' "$name" >"$state/root/.bashrc"
  lab_sshd_config "$addr" "$state/etc-ssh/ssh_host_ed25519_key" none >"$state/etc-ssh/sshd_config"
  mkdir -p /var/lib/ferry /run/ferry
  # The mount namespace is private, so these binds never reach the controller's view.
  setsid nsenter --net="/run/netns/$ns" unshare --mount --uts --propagation private -- /bin/sh -c '
    set -e
    mount --bind "$1/root" /root
    mount --bind "$1/var-lib-ferry" /var/lib/ferry
    mount -t tmpfs -o mode=0755 "ferry-run-$2" /run
    mkdir -p /run/sshd /run/ferry/runc /run/netns
    mount --bind "$1/run" /run/ferry
    mkdir -p /run/ferry/runc
    hostname "$2"
    exec /usr/sbin/sshd -D -e -f "$1/etc-ssh/sshd_config"
  ' lab-host "$state" "$name" </dev/null >>"$state/log/sshd.log" 2>&1 &
  echo $! >"$state/sshd.pid"
  for _ in $(seq 1 50); do
    if nsenter --net="/run/netns/$ns" bash -c "exec 3<>/dev/tcp/$addr/22" 2>/dev/null; then
      say "host $name: sshd up (pid $(cat "$state/sshd.pid"))"
      return 0
    fi
    sleep 0.1
  done
  cat "$state/log/sshd.log" >&2 || true
  die "host $name: sshd did not start"
}


# Restart only what died: a host whose namespace is intact keeps its running containers.
host_heal() {
  local name=$1 cidr=$2 br=$3 labdir=$4 ns state addr
  ns=$(ns_of "$name"); state=$(state_of "$name" "$labdir"); addr=${cidr%/*}
  if [ -e "/run/netns/$ns" ] && nsenter --net="/run/netns/$ns" ip -o addr show dev eth0 2>/dev/null | grep " $addr/" >/dev/null \
     && ip link show "$(veth_of "$name")" 2>/dev/null | grep "master $br" >/dev/null; then
    if [ -f "$state/sshd.pid" ]; then kill -9 "$(cat "$state/sshd.pid")" 2>/dev/null || true; fi
    say "host $name: namespace intact, restarting sshd only"
    start_sshd "$name" "$addr" "$labdir"
  else
    host_up "$@"
  fi
}

host_check() {
  local name=$1 labdir=$2 ns state pid
  ns=$(ns_of "$name"); state=$(state_of "$name" "$labdir")
  [ -e "/run/netns/$ns" ] || { say "host $name: namespace $ns missing"; return 1; }
  [ -f "$state/sshd.pid" ] || { say "host $name: no sshd pid file"; return 1; }
  pid=$(cat "$state/sshd.pid")
  if ! kill -0 "$pid" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
    say "host $name: sshd (pid $pid) is not running"; return 1
  fi
  [ "$(readlink "/proc/$pid/ns/net")" = "$(stat -L -c 'net:[%i]' "/run/netns/$ns" 2>/dev/null)" ] \
    || { say "host $name: sshd is not in namespace $ns"; return 1; }
  return 0
}

cmd=${1:-}; shift || true
case "$cmd" in
  bridge-up) bridge_up "$@" ;;
  bridge-down) bridge_down "$@" ;;
  host-up) host_up "$@" ;;
  host-down) host_down "$@" ;;
  host-check) host_check "$@" ;;
  host-heal) host_heal "$@" ;;
  *) die "usage: lab.sh bridge-up|bridge-down|host-up|host-down|host-check ..." ;;
esac
