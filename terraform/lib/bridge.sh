# The lab bridges (and a two-cloud host's route check), shared by terraform/local/lab.sh and
# terraform/qemu/qemu-lab.sh (sourced; the caller defines say()).

bridge_up() {
  local br=$1 gw=$2 subnet=$3
  if ! ip link show "$br" >/dev/null 2>&1; then
    say "creating bridge $br ($gw)"
    ip link add "$br" type bridge
  fi
  ip addr replace "$gw" dev "$br"
  # The controller routes nothing for the lab, even where this machine forwards (ip_forward=1):
  # a two-cloud lab's clouds must reach each other only through their gateways' tunnel.
  echo 0 >"/proc/sys/net/ipv4/conf/$br/forwarding"
  ip link set "$br" up
  # Without a bridge the lab's packets would leave by the default route: make them fail instead.
  ip route replace unreachable "$subnet" metric 4096
}

bridge_down() {
  local br=$1 subnet=$2
  ip link del "$br" 2>/dev/null || true
  ip route del unreachable "$subnet" metric 4096 2>/dev/null || true
}

# A two-cloud lab host's route argument, SUBNET,GATEWAY (e.g. 10.247.2.0/24,10.247.1.254).
lab_route_check() {
  [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2},[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { say "bad route '$1' (want SUBNET,GATEWAY)"; exit 1; }
}
