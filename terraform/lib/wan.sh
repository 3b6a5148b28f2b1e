#!/usr/bin/env bash
# The WAN of a two-cloud lab, shared by terraform/local and terraform/qemu (both run it on the
# controller, driven by Terraform's local-exec). Per cloud a gateway: its own network namespace
# with a leg on the cloud's bridge (.254 of its /24) and a WireGuard interface (wireguard-go: this
# kernel has no WireGuard) whose peer is the other cloud's gateway. Between the gateways a "wan"
# namespace: each gateway's WAN interface is a veth into it, rate-shaped by HTB on the gateway's
# side, and a UDP relay there (wan-relay.mjs) carries the WireGuard datagrams from one side to the
# other, adding the round trip and loss (this kernel has no netem). The wan namespace forwards no
# IP at all: the relay is the only way across, and it carries only the gateways' WireGuard traffic.
#
#   wan.sh up    LAB_DIR RTT_MS MBIT LOSS_PCT CLOUD_A BRIDGE_A PREFIX_A CLOUD_B BRIDGE_B PREFIX_B
#                (MBIT 0: no rate limit; PREFIX: the first three octets of the cloud's /24)
#   wan.sh down  LAB_DIR CLOUD_A CLOUD_B
#   wan.sh check LAB_DIR CLOUD_A CLOUD_B   (exit 0 when both gateways and the relay run)
#   wan.sh gateway-check CLOUD             (exit 0 when that gateway runs; says why not)
#   wan.sh relay-check LAB_DIR             (exit 0 when the relay runs; says why not)
#   wan.sh sweep LAB_DIR                   (every gateway, the wan namespace, their sockets)
#   wan.sh names INDEX CLOUD PREFIX        (the names and addresses used for a gateway; no root)
# Keys: LAB_DIR/wan/CLOUD.key (wg genkey, 0600) and CLOUD.pub, made per lab, removed by down.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf '[wan] %s\n' "$*" >&2; }
die() { printf '[wan] ERROR: %s\n' "$*" >&2; exit 1; }

WAN_NS=ferry-wan
WG_PORT=51820
# The gateways' "public" addresses (documentation ranges, RFC 5737), and the relay's address on
# each side: they exist only inside the gateway and wan namespaces, never on the controller.
PUBLIC=(198.51.100 203.0.113)

gw_ns() { echo "ferry-gw-$1"; }
# wireguard-go's control socket is /var/run/wireguard/<ifname>.sock, shared by every namespace
# that shares the filesystem: each gateway's interface needs a name of its own. 15 characters.
wg_if() { echo "fwg-${1:0:11}"; }
lan_veth() { echo "fgw-${1:0:11}"; }
wan_veth() { echo "to-${1:0:12}"; }
relay_pid_file() { echo "$1/wan/relay.pid"; }

names() {
  local i=$1 cloud=$2 prefix=$3
  echo "namespace=$(gw_ns "$cloud") wg=$(wg_if "$cloud") veth=$(lan_veth "$cloud") lan=$prefix.254 public=${PUBLIC[$i]}.1 relay=${PUBLIC[$i]}.254 port=$WG_PORT"
}

in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

kill_ns_processes() {
  local ns=$1 pids i
  [ -e "/run/netns/$ns" ] || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] || return 0
  # TERM first: wireguard-go removes its control socket when it exits cleanly.
  kill -TERM $pids 2>/dev/null || true
  for i in $(seq 1 30); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    sleep 0.1
  done
  kill -KILL $pids 2>/dev/null || true
}

gateway_down() {
  local cloud=$1 ns
  ns=$(gw_ns "$cloud")
  kill_ns_processes "$ns"
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$(lan_veth "$cloud")" 2>/dev/null || true
  rm -f "/var/run/wireguard/$(wg_if "$cloud").sock"
}

relay_down() {
  local labdir=$1
  kill_ns_processes "$WAN_NS"
  ip netns del "$WAN_NS" 2>/dev/null || true
  rm -f "$(relay_pid_file "$labdir")"
}

down() {
  local labdir=$1; shift
  local cloud
  for cloud in "$@"; do gateway_down "$cloud"; done
  relay_down "$labdir"
  rm -rf "$labdir/wan"
}

sweep() {
  local labdir=$1 ns link sock
  for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }' | grep '^ferry-gw-' || true); do
    say "sweeping gateway namespace $ns"
    gateway_down "${ns#ferry-gw-}"
  done
  if [ -e "/run/netns/$WAN_NS" ]; then say "sweeping $WAN_NS"; fi
  relay_down "$labdir"
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep '^fgw-' || true); do
    ip link del "$link" 2>/dev/null || true
  done
  for sock in /var/run/wireguard/fwg-*.sock; do
    [ -e "$sock" ] || continue
    say "removing stale WireGuard socket $sock"
    rm -f "$sock"
  done
  rm -rf "$labdir/wan"
}

keys() {
  local labdir=$1 cloud=$2
  mkdir -p "$labdir/wan"
  chmod 700 "$labdir/wan"
  if [ ! -s "$labdir/wan/$cloud.key" ]; then
    (umask 077 && wg genkey >"$labdir/wan/$cloud.key")
  fi
  wg pubkey <"$labdir/wan/$cloud.key" >"$labdir/wan/$cloud.pub"
}

# A gateway's namespace, its leg on the cloud bridge and its WAN veth into the wan namespace.
gateway_links() {
  local i=$1 cloud=$2 br=$3 prefix=$4 mbit=$5 ns veth wanv
  ns=$(gw_ns "$cloud"); veth=$(lan_veth "$cloud"); wanv=$(wan_veth "$cloud")
  ip link show "$br" >/dev/null 2>&1 || die "bridge $br of $cloud is missing: run 'ferry lab up' (it creates the bridges first)"
  say "gateway $cloud: namespace $ns, $prefix.254 on $br, WAN ${PUBLIC[$i]}.1"
  ip netns add "$ns"
  in_ns "$ns" ip link set lo up
  # Routes between the cloud and the tunnel; nothing else (the namespace has no default route).
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  # A fixed MAC per gateway: the hosts' ARP entries for it stay right when the WAN is rebuilt
  # (`lab up` repairing it), instead of pointing at the old veth for half a minute or more.
  ip link add "$veth" type veth peer name lan0 address "02:fe:00:00:0$((i + 1)):fe" netns "$ns"
  ip link set "$veth" master "$br" up
  in_ns "$ns" ip addr add "$prefix.254/24" dev lan0
  in_ns "$ns" ip link set lan0 up
  ip link add wan0 netns "$ns" type veth peer name "$wanv" netns "$WAN_NS"
  in_ns "$ns" ip addr add "${PUBLIC[$i]}.1/24" dev wan0
  in_ns "$ns" ip link set wan0 up
  in_ns "$WAN_NS" ip addr add "${PUBLIC[$i]}.254/24" dev "$wanv"
  in_ns "$WAN_NS" ip link set "$wanv" up
  if [ "$mbit" != 0 ]; then
    # HTB on the gateway's egress into the WAN: each direction is shaped where it leaves its cloud.
    in_ns "$ns" tc qdisc add dev wan0 root handle 1: htb default 10
    in_ns "$ns" tc class add dev wan0 parent 1: classid 1:10 htb rate "${mbit}mbit" ceil "${mbit}mbit"
  fi
}

# wireguard-go in the gateway's namespace, keyed, its peer the other gateway through the relay.
gateway_tunnel() {
  local i=$1 cloud=$2 prefix=$3 other=$4 other_prefix=$5 labdir=$6 ns wg sock pid
  ns=$(gw_ns "$cloud"); wg=$(wg_if "$cloud"); sock="/var/run/wireguard/$wg.sock"
  rm -f "$sock"
  mkdir -p /var/run/wireguard
  # Foreground (-f) under setsid, so its pid is known and it outlives Terraform's shell.
  setsid nsenter --net="/run/netns/$ns" wireguard-go -f "$wg" </dev/null >>"$labdir/wan/$cloud.log" 2>&1 &
  pid=$!
  echo "$pid" >"$labdir/wan/$cloud.pid"
  for _ in $(seq 1 50); do
    [ -S "$sock" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$labdir/wan/$cloud.log" >&2; die "gateway $cloud: wireguard-go exited"; }
    sleep 0.1
  done
  [ -S "$sock" ] || die "gateway $cloud: wireguard-go made no control socket $sock"
  in_ns "$ns" wg set "$wg" private-key "$labdir/wan/$cloud.key" listen-port "$WG_PORT" \
    peer "$(cat "$labdir/wan/$other.pub")" endpoint "${PUBLIC[$i]}.254:$WG_PORT" allowed-ips "$other_prefix.0/24" persistent-keepalive 25
  in_ns "$ns" ip link set "$wg" up
  in_ns "$ns" ip route add "$other_prefix.0/24" dev "$wg"
}

relay_up() {
  local labdir=$1 rtt=$2 loss=$3 node pid half
  node=${FERRY_NODE:-$(command -v node || true)}
  [ -n "$node" ] || die "node is not on PATH (the WAN relay is a Node script): set FERRY_NODE"
  half=$(awk -v r="$rtt" 'BEGIN { printf "%.3f", r / 2 }')
  setsid nsenter --net="/run/netns/$WAN_NS" "$node" "$HERE/wan-relay.mjs" \
    --a "${PUBLIC[0]}.254:$WG_PORT" --a-peer "${PUBLIC[0]}.1:$WG_PORT" \
    --b "${PUBLIC[1]}.254:$WG_PORT" --b-peer "${PUBLIC[1]}.1:$WG_PORT" \
    --delay-ms "$half" --loss-pct "$loss" </dev/null >>"$labdir/wan/relay.log" 2>&1 &
  pid=$!
  echo "$pid" >"$(relay_pid_file "$labdir")"
  for _ in $(seq 1 100); do
    grep -q '^relay ready' "$labdir/wan/relay.log" 2>/dev/null && { say "relay: $(grep '^relay ready' "$labdir/wan/relay.log" | tail -n1)"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$labdir/wan/relay.log" >&2; die "the WAN relay exited"; }
    sleep 0.1
  done
  die "the WAN relay did not start (log: $labdir/wan/relay.log)"
}

up() {
  [ $# -eq 10 ] || die "usage: wan.sh up LAB_DIR RTT_MS MBIT LOSS_PCT CLOUD_A BRIDGE_A PREFIX_A CLOUD_B BRIDGE_B PREFIX_B"
  local labdir=$1 rtt=$2 mbit=$3 loss=$4 a=$5 bra=$6 pa=$7 b=$8 brb=$9 pb=${10} c
  for c in "$a" "$b"; do [[ $c =~ ^[a-z][a-z0-9-]{0,30}$ ]] || die "bad cloud name '$c'"; done
  [ "$a" != "$b" ] || die "the two clouds need two names"
  for c in "$rtt" "$mbit" "$loss"; do [[ $c =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad link figure '$c'"; done
  for c in "$pa" "$pb"; do [[ $c =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "bad subnet prefix '$c'"; done
  command -v wireguard-go >/dev/null || die "wireguard-go is missing: apt-get install wireguard-go (scripts/setup.sh installs it)"
  command -v wg >/dev/null || die "wg is missing: apt-get install wireguard-tools (scripts/setup.sh installs it)"

  # Whatever an earlier run left (a half-built WAN) goes first; the keys stay.
  for c in "$a" "$b"; do gateway_down "$c"; done
  relay_down "$labdir"
  keys "$labdir" "$a"
  keys "$labdir" "$b"

  ip netns add "$WAN_NS"
  in_ns "$WAN_NS" ip link set lo up
  gateway_links 0 "$a" "$bra" "$pa" "$mbit"
  gateway_links 1 "$b" "$brb" "$pb" "$mbit"
  relay_up "$labdir" "$rtt" "$loss"
  gateway_tunnel 0 "$a" "$pa" "$b" "$pb" "$labdir"
  gateway_tunnel 1 "$b" "$pb" "$a" "$pa" "$labdir"

  # The first handshake crosses the relay; wait for traffic to pass the tunnel both ways.
  for _ in $(seq 1 60); do
    if in_ns "$(gw_ns "$a")" ping -c 1 -W 1 -I "$pa.254" "$pb.254" >/dev/null 2>&1; then
      say "tunnel up: $a ($pa.0/24) <-> $b ($pb.0/24), ${rtt} ms round trip, $([ "$mbit" = 0 ] && echo 'no rate limit' || echo "$mbit Mbit/s"), ${loss} % loss each way"
      return 0
    fi
  done
  check_all "$labdir" "$a" "$b" || true
  die "the WireGuard tunnel between $a and $b passes no traffic (logs: $labdir/wan/)"
}

gateway_check() {
  local cloud=$1 ns pid
  ns=$(gw_ns "$cloud")
  [ -e "/run/netns/$ns" ] || { say "gateway $cloud: namespace $ns missing"; return 1; }
  pid=$(ip netns pids "$ns" 2>/dev/null | head -n1 || true)
  [ -n "$pid" ] || { say "gateway $cloud: wireguard-go is not running in $ns"; return 1; }
  [ -S "/var/run/wireguard/$(wg_if "$cloud").sock" ] || { say "gateway $cloud: no WireGuard control socket"; return 1; }
  in_ns "$ns" ip -o link show "$(wg_if "$cloud")" 2>/dev/null | grep -Eq '[<,]UP[,>]' || { say "gateway $cloud: $(wg_if "$cloud") is down"; return 1; }
  return 0
}

relay_check() {
  local labdir=$1 f pid
  f=$(relay_pid_file "$labdir")
  [ -e "/run/netns/$WAN_NS" ] || { say "the wan namespace $WAN_NS is missing"; return 1; }
  [ -f "$f" ] || { say "the WAN relay has no pid file"; return 1; }
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || { say "the WAN relay (pid $pid) is not running"; return 1; }
  [ "$(readlink "/proc/$pid/ns/net")" = "$(stat -L -c 'net:[%i]' "/run/netns/$WAN_NS")" ] \
    || { say "the WAN relay (pid $pid) is not in $WAN_NS"; return 1; }
  return 0
}

check_all() {
  local labdir=$1 ok=0; shift
  local c
  for c in "$@"; do gateway_check "$c" || ok=1; done
  relay_check "$labdir" || ok=1
  return $ok
}

cmd=${1:-}; shift || true
case "$cmd" in
  up) up "$@" ;;
  down) [ $# -ge 1 ] || die "usage: wan.sh down LAB_DIR CLOUD..."; down "$@" ;;
  check) [ $# -ge 1 ] || die "usage: wan.sh check LAB_DIR CLOUD..."; check_all "$@" ;;
  gateway-check) [ $# -eq 1 ] || die "usage: wan.sh gateway-check CLOUD"; gateway_check "$1" ;;
  relay-check) [ $# -eq 1 ] || die "usage: wan.sh relay-check LAB_DIR"; relay_check "$1" ;;
  sweep) [ $# -eq 1 ] || die "usage: wan.sh sweep LAB_DIR"; sweep "$1" ;;
  names) [ $# -eq 3 ] || die "usage: wan.sh names INDEX CLOUD PREFIX"; names "$@" ;;
  *) die "usage: wan.sh up|down|check|gateway-check|relay-check|sweep|names ..." ;;
esac
