# shellcheck shell=bash
# The two-tenant east-west topology shared by scripts/demo.sh and tests/e2e/two_tenants_test.sh.
# Source it; it only defines data and functions. The caller defines `ctl` (dvrctl against its
# dvrd) and creates the processes, namespaces and tap interfaces itself (and removes them).
#
# Two tenants use the SAME addresses; each has a distributed router joining its two subnets:
#
#   tenant A: router ra                         tenant B: router rb
#     na1 (seg 101) sa1 10.0.1.0/24               nb1 (seg 201) sb1 10.0.1.0/24
#       ia1 gateway 10.0.1.1 02:0a:00:00:01:01      ib1 gateway 10.0.1.1 02:0b:00:00:01:01
#       pa1 VM 10.0.1.10 02:aa:00:00:00:01 (a1)     pb1 VM 10.0.1.10 02:bb:00:00:00:01 (b1)
#     na2 (seg 102) sa2 10.0.2.0/24               nb2 (seg 202) sb2 10.0.2.0/24
#       ia2 gateway 10.0.2.1 02:0a:00:00:02:01      ib2 gateway 10.0.2.1 02:0b:00:00:02:01
#       pa2 VM 10.0.2.20 02:aa:00:00:00:02 (a2)     pb2 VM 10.0.2.20 02:bb:00:00:00:02 (b2)
#
# Each VM is a network namespace holding one dvrd tap port (a1 a2 b1 b2), its interface given
# the VM port's MAC, the address /24 and a default route via the gateway.

# The dataplane ports, one per VM, in this order.
TOPO_VMS=(a1 a2 b1 b2)

declare -A TOPO_ROUTER=([a1]=ra [a2]=ra [b1]=rb [b2]=rb)
declare -A TOPO_NET=([a1]=na1 [a2]=na2 [b1]=nb1 [b2]=nb2)
declare -A TOPO_SEG=([a1]=101 [a2]=102 [b1]=201 [b2]=202)
declare -A TOPO_SUBNET=([a1]=sa1 [a2]=sa2 [b1]=sb1 [b2]=sb2)
declare -A TOPO_CIDR=([a1]=10.0.1.0/24 [a2]=10.0.2.0/24 [b1]=10.0.1.0/24 [b2]=10.0.2.0/24)
declare -A TOPO_IFACE=([a1]=ia1 [a2]=ia2 [b1]=ib1 [b2]=ib2)
declare -A TOPO_GW=([a1]=10.0.1.1 [a2]=10.0.2.1 [b1]=10.0.1.1 [b2]=10.0.2.1)
declare -A TOPO_GWMAC=([a1]=02:0a:00:00:01:01 [a2]=02:0a:00:00:02:01
  [b1]=02:0b:00:00:01:01 [b2]=02:0b:00:00:02:01)
declare -A TOPO_VMPORT=([a1]=pa1 [a2]=pa2 [b1]=pb1 [b2]=pb2)
declare -A TOPO_MAC=([a1]=02:aa:00:00:00:01 [a2]=02:aa:00:00:00:02
  [b1]=02:bb:00:00:00:01 [b2]=02:bb:00:00:00:02)
declare -A TOPO_IP=([a1]=10.0.1.10 [a2]=10.0.2.20 [b1]=10.0.1.10 [b2]=10.0.2.20)

# topo_port_args IFACE_a1 IFACE_a2 IFACE_b1 IFACE_b2: prints dvrd's --port options (one per
# line) for the four tap ports on those kernel interface names.
topo_port_args() {
  local i=0 vm ifaces=("$@")
  for vm in "${TOPO_VMS[@]}"; do
    printf -- '--port\n%s=tap,iface=%s\n' "$vm" "${ifaces[$i]}"
    i=$((i + 1))
  done
}

# topo_ctl ARGS...: runs `ctl ARGS...`; echoes the command first when TOPO_ECHO=1. On failure
# prints what dvrctl said on stderr and returns 1.
topo_ctl() {
  local out
  [ "${TOPO_ECHO:-0}" = 1 ] && printf '    $ dvrctl %s\n' "$*"
  if ! out=$(ctl "$@" 2>&1); then
    printf 'dvrctl %s failed: %s\n' "$*" "$out" >&2
    return 1
  fi
  return 0
}

# topo_configure_model: creates both tenants' routers, networks, subnets, router interfaces and
# VM ports (bound to the dataplane ports a1 a2 b1 b2, which must exist). Returns 1 at the first
# refused request.
topo_configure_model() {
  local r vm
  for r in ra rb; do topo_ctl router add "$r" --tenant "tenant-${r#r}" || return 1; done
  for vm in "${TOPO_VMS[@]}"; do
    topo_ctl network add "${TOPO_NET[$vm]}" --segmentation-id "${TOPO_SEG[$vm]}" \
      --tenant "tenant-${vm:0:1}" || return 1
  done
  for vm in "${TOPO_VMS[@]}"; do
    topo_ctl subnet add "${TOPO_SUBNET[$vm]}" --network "${TOPO_NET[$vm]}" \
      --cidr "${TOPO_CIDR[$vm]}" || return 1
  done
  for vm in "${TOPO_VMS[@]}"; do
    topo_ctl interface add "${TOPO_IFACE[$vm]}" --router "${TOPO_ROUTER[$vm]}" \
      --subnet "${TOPO_SUBNET[$vm]}" --mac "${TOPO_GWMAC[$vm]}" || return 1
  done
  for vm in "${TOPO_VMS[@]}"; do
    topo_ctl vm-port add "${TOPO_VMPORT[$vm]}" --network "${TOPO_NET[$vm]}" \
      --mac "${TOPO_MAC[$vm]}" --ip "${TOPO_IP[$vm]}" --port "$vm" || return 1
  done
}

# topo_step COMMAND...: runs a setup command quietly; on failure names it on stderr.
topo_step() {
  local out
  out=$("$@" 2>&1) || {
    printf '"%s" failed: %s\n' "$*" "$out" >&2
    return 1
  }
}

# topo_setup_vm VM NS IFACE: moves the tap IFACE (root namespace) into the existing namespace
# NS and configures it as the VM: IPv6 off, the VM port's MAC, address /24, link up, default
# route via the gateway. Returns 1 with a message on stderr when a step fails.
topo_setup_vm() {
  local vm=$1 ns=$2 ifc=$3
  topo_step ip link set dev "$ifc" netns "$ns" || return 1
  # IPv6 off before the link comes up, so that no router solicitation, MLD report or DAD probe
  # runs through dvrd and the counters stay exact.
  topo_step ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 "net.ipv6.conf.$ifc.disable_ipv6=1" || return 1
  topo_step ip -n "$ns" link set lo up || return 1
  topo_step ip -n "$ns" link set dev "$ifc" down || return 1
  topo_step ip -n "$ns" link set dev "$ifc" address "${TOPO_MAC[$vm]}" || return 1
  topo_step ip -n "$ns" addr add "${TOPO_IP[$vm]}/24" dev "$ifc" || return 1
  topo_step ip -n "$ns" link set dev "$ifc" up || return 1
  topo_step ip -n "$ns" route add default via "${TOPO_GW[$vm]}" dev "$ifc" || return 1
}
