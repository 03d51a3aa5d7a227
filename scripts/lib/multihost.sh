# shellcheck shell=bash
# The multi-host DVR topology shared by tests/e2e/multi_host_test.sh and scripts/demo.sh
# --hosts 2. Source it; it only defines data and functions. The caller defines `hctl HOST ARGS...`
# (dvrctl against that host's dvrd), starts the dvrd instances and creates (and removes) the
# namespaces and interfaces.
#
# The underlay (one namespace, "the fabric"): hosts h1 and h2 on a bridge, 192.0.2.0/24; h3
# behind the fabric's router, 198.51.100.0/24. Each dvrd's uplink is a tap port moved there.
#
#        h1 192.0.2.1 ----+
#                         br0 192.0.2.254 [fabric router] 198.51.100.254 ---- h3 198.51.100.3
#        h2 192.0.2.2 ----+
#
# The tenants (the same model on every host, as the management plane sends it): tenant A's router
# ra joins na1 (VNI 101, 10.0.1.0/24) and na2 (VNI 102, 10.0.2.0/24); tenant B's router rb joins
# nb1 (VNI 201) and nb2 (VNI 202) with the SAME CIDRs. VMs (one namespace each):
#   a1 10.0.1.11 on h1 (na1)   a2 10.0.1.12 on h2 (na1: a1's subnet)   a3 10.0.2.13 on h3 (na2)
#   b1 10.0.1.11 on h1 (nb1)   b3 10.0.2.13 on h3 (nb2): the same addresses as a1 and a3
# A caller may narrow MH_HOSTS / MH_VMS and move VMs (MH_VM_HOST) before configuring.

MH_HOSTS=(h1 h2 h3)
declare -A MH_TUNNEL=([h1]=192.0.2.1 [h2]=192.0.2.2 [h3]=198.51.100.3)
declare -A MH_ROUTE=([h1]=198.51.100.0/24=192.0.2.254 [h2]=198.51.100.0/24=192.0.2.254
  [h3]=192.0.2.0/24=198.51.100.254)
declare -A MH_DVRMAC=([h1]=02:d0:00:00:00:01 [h2]=02:d0:00:00:00:02 [h3]=02:d0:00:00:00:03)
MH_FABRIC_IP=192.0.2.254
MH_FABRIC_FAR_IP=198.51.100.254

MH_NETS=(na1 na2 nb1 nb2)
declare -A MH_NET_ROUTER=([na1]=ra [na2]=ra [nb1]=rb [nb2]=rb)
declare -A MH_NET_VNI=([na1]=101 [na2]=102 [nb1]=201 [nb2]=202)
declare -A MH_NET_CIDR=([na1]=10.0.1.0/24 [na2]=10.0.2.0/24 [nb1]=10.0.1.0/24 [nb2]=10.0.2.0/24)
declare -A MH_NET_GW=([na1]=10.0.1.1 [na2]=10.0.2.1 [nb1]=10.0.1.1 [nb2]=10.0.2.1)
declare -A MH_NET_GWMAC=([na1]=02:0a:00:00:01:01 [na2]=02:0a:00:00:02:01
  [nb1]=02:0b:00:00:01:01 [nb2]=02:0b:00:00:02:01)
# The overlay carries 1450 bytes (an uplink MTU of 1500 less 50 of VXLAN), as Neutron sets it.
MH_NET_MTU=1450

MH_VMS=(a1 a2 a3 b1 b3)
declare -A MH_VM_HOST=([a1]=h1 [a2]=h2 [a3]=h3 [b1]=h1 [b3]=h3)
declare -A MH_VM_NET=([a1]=na1 [a2]=na1 [a3]=na2 [b1]=nb1 [b3]=nb2)
declare -A MH_VM_IP=([a1]=10.0.1.11 [a2]=10.0.1.12 [a3]=10.0.2.13 [b1]=10.0.1.11 [b3]=10.0.2.13)
declare -A MH_VM_MAC=([a1]=02:aa:00:00:00:01 [a2]=02:aa:00:00:00:02 [a3]=02:aa:00:00:00:03
  [b1]=02:bb:00:00:00:01 [b3]=02:bb:00:00:00:03)

# mh_step COMMAND...: runs a command quietly; on failure names it on stderr and returns 1.
mh_step() {
  local out
  out=$("$@" 2>&1) || {
    printf '"%s" failed: %s\n' "$*" "$out" >&2
    return 1
  }
}

# mh_ctl HOST ARGS...: hctl HOST ARGS..., echoed first when MH_ECHO=1; returns 1 with dvrctl's
# message on stderr when dvrd refuses.
mh_ctl() {
  local out host=$1
  shift
  [ "${MH_ECHO:-0}" = 1 ] && printf '    %s$ dvrctl %s\n' "$host" "$*"
  if ! out=$(hctl "$host" "$@" 2>&1); then
    printf '%s: dvrctl %s failed: %s\n' "$host" "$*" "$out" >&2
    return 1
  fi
}

# mh_vm_port_location VM HOST: the dvrctl vm-port option placing VM as HOST sees it.
mh_vm_port_location() {
  if [ "${MH_VM_HOST[$1]}" = "$2" ]; then
    printf -- '--port\n%s\n' "$1"
  else
    printf -- '--host\n%s\n' "${MH_VM_HOST[$1]}"
  fi
}

# mh_configure HOST: sends HOST's dvrd everything it needs: its identity and overlay (uplink
# port "up"), the other hosts, both tenants, every VM port (local ones on the dataplane port
# named like the VM, the others on their hosts).
mh_configure() {
  local h=$1 other net vm loc
  mh_ctl "$h" host set --host-id "$h" --dvr-mac "${MH_DVRMAC[$h]}" \
    --tunnel-ip "${MH_TUNNEL[$h]}/24" --uplink up --underlay-route "${MH_ROUTE[$h]}" || return 1
  for other in "${MH_HOSTS[@]}"; do
    [ "$other" = "$h" ] && continue
    mh_ctl "$h" remote-host add "$other" --tunnel-ip "${MH_TUNNEL[$other]}" \
      --dvr-mac "${MH_DVRMAC[$other]}" || return 1
  done
  mh_ctl "$h" router add ra --tenant tenant-a || return 1
  mh_ctl "$h" router add rb --tenant tenant-b || return 1
  for net in "${MH_NETS[@]}"; do
    mh_ctl "$h" network add "$net" --segmentation-id "${MH_NET_VNI[$net]}" \
      --tenant "tenant-${net:1:1}" --mtu "$MH_NET_MTU" || return 1
    mh_ctl "$h" subnet add "s$net" --network "$net" --cidr "${MH_NET_CIDR[$net]}" || return 1
    mh_ctl "$h" interface add "i$net" --router "${MH_NET_ROUTER[$net]}" --subnet "s$net" \
      --mac "${MH_NET_GWMAC[$net]}" || return 1
  done
  for vm in "${MH_VMS[@]}"; do
    mapfile -t loc < <(mh_vm_port_location "$vm" "$h")
    mh_ctl "$h" vm-port add "p$vm" --network "${MH_VM_NET[$vm]}" --mac "${MH_VM_MAC[$vm]}" \
      --ip "${MH_VM_IP[$vm]}" "${loc[@]}" || return 1
  done
}

# mh_setup_fabric NS: the underlay namespace: the bridge for h1/h2 with 192.0.2.254, and IP
# forwarding towards h3's segment.
mh_setup_fabric() {
  local ns=$1
  # A fixed bridge MAC: by default a bridge takes its lowest port's, and a frame dvrd sends would
  # then carry the bridge's own address as source (the bridge drops those).
  mh_step ip -n "$ns" link add br0 address 02:fb:00:00:00:fe type bridge || return 1
  mh_step ip -n "$ns" addr add "$MH_FABRIC_IP/24" dev br0 || return 1
  mh_step ip -n "$ns" link set br0 up || return 1
  mh_step ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
}

# mh_attach_uplink NS HOST IFACE: moves HOST's uplink tap IFACE into the fabric: onto the bridge
# (h1, h2) or routed (h3). The tap's kernel side is the fabric's end of the wire: it gets its own
# MAC (net_tap gives it dvrd's, and a bridge port whose address equals the host behind it
# swallows the frames for that host as its own).
mh_attach_uplink() {
  local ns=$1 h=$2 ifc=$3
  mh_step ip link set dev "$ifc" netns "$ns" || return 1
  mh_step ip -n "$ns" link set dev "$ifc" address "02:fb:00:00:00:0${h#h}" || return 1
  mh_step ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.disable_ipv6=1" || return 1
  if [ "$h" = h3 ]; then
    mh_step ip -n "$ns" addr add "$MH_FABRIC_FAR_IP/24" dev "$ifc" || return 1
  else
    mh_step ip -n "$ns" link set dev "$ifc" master br0 || return 1
  fi
  mh_step ip -n "$ns" link set dev "$ifc" up || return 1
}

# mh_setup_vm VM NS IFACE: moves the tap IFACE into the VM's namespace NS and configures it:
# IPv6 off, the VM port's MAC, address /24, MTU 1450, default route via the gateway.
mh_setup_vm() {
  local vm=$1 ns=$2 ifc=$3 net=${MH_VM_NET[$1]}
  mh_step ip link set dev "$ifc" netns "$ns" || return 1
  mh_step ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 "net.ipv6.conf.$ifc.disable_ipv6=1" || return 1
  mh_step ip -n "$ns" link set lo up || return 1
  mh_step ip -n "$ns" link set dev "$ifc" down || return 1
  mh_step ip -n "$ns" link set dev "$ifc" address "${MH_VM_MAC[$vm]}" mtu "$MH_NET_MTU" || return 1
  mh_step ip -n "$ns" addr add "${MH_VM_IP[$vm]}/24" dev "$ifc" || return 1
  mh_step ip -n "$ns" link set dev "$ifc" up || return 1
  mh_step ip -n "$ns" route add default via "${MH_NET_GW[$net]}" dev "$ifc" || return 1
}
