#!/usr/bin/env bash
# Multi-host DVR over a VXLAN overlay: three dvrd instances ("hosts"), each with its own control
# socket, a tap uplink into a shared underlay namespace (h1 and h2 bridged, h3 behind a router,
# so underlay routes and ARP for a router are exercised) and namespace VMs on tap ports
# (scripts/lib/multihost.sh draws the topology). Checks, across hosts:
#   - same subnet (a1@h1 -> a2@h2): ping and a byte-identical TCP transfer;
#   - different subnets of one router (a1@h1 -> a3@h3), routed on the source host: the same;
#   - a capture on the underlay proves the VNIs, the source host's DVR MAC on routed frames (and
#     never a gateway MAC), and that no ARP crosses the underlay (answered locally);
#   - a VM with a 1500-byte MTU gets "fragmentation needed, MTU 1450" for a DF packet routed
#     into the overlay; the overlay's counters;
#   - broadcast is replicated to the host holding the network's other VM, and not when the
#     network's flooding is off;
#   - two tenants with the same CIDRs stay isolated across hosts (b1@h1 reaches b3@h3, a1 reaches
#     a3 and never b3);
#   - moving a2 from h2 to h3 (port re-created there, two control updates): a1's pings resume.
# Usage: multi_host_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/multihost.sh
. "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib/multihost.sh"
e2e_init multi_host "$@"
need_tool socat sha256sum ping tcpdump timeout
/usr/bin/python3 -c 'import scapy.layers.vxlan' 2>/dev/null || skip "scapy (python3-scapy) is missing"

R=$(rand4)
declare -A SOCK UPLINK TAP NS
# iface NAME: a kernel interface name unique to this run (at most 15 characters).
iface() {
  local n="mh$1$$${R}"
  n=${n:0:15}
  register_link "$n"
  printf '%s' "$n"
}
for h in "${MH_HOSTS[@]}"; do UPLINK[$h]=$(iface "u$h"); done
for vm in "${MH_VMS[@]}"; do TAP[$vm]=$(iface "$vm"); done

hctl() {
  local h=$1
  shift
  "$DVRCTL" --socket "${SOCK[$h]}" "$@"
}

check "three dvrd hosts, each with a tap uplink and its VMs' tap ports"
for h in "${MH_HOSTS[@]}"; do
  args=(--host-id "$h" --port "up=tap,iface=${UPLINK[$h]}")
  for vm in "${MH_VMS[@]}"; do
    [ "${MH_VM_HOST[$vm]}" = "$h" ] && args+=(--port "$vm=tap,iface=${TAP[$vm]}")
  done
  E2E_SOCK="$E2E_TMP/$h.sock" start_dvrd "${args[@]}"
  SOCK[$h]=$DVRD_SOCK
done

check "the underlay namespace: h1, h2 bridged on 192.0.2.0/24; h3 routed on 198.51.100.0/24"
new_netns FABRIC fabric
mh_setup_fabric "$FABRIC" 2>"$E2E_TMP/err" || fail "fabric: $(cat "$E2E_TMP/err")"
for h in "${MH_HOSTS[@]}"; do
  wait_for 10 ip link show dev "${UPLINK[$h]}" || fail "uplink tap of $h did not appear"
  mh_attach_uplink "$FABRIC" "$h" "${UPLINK[$h]}" 2>"$E2E_TMP/err" ||
    fail "attaching $h's uplink: $(cat "$E2E_TMP/err")"
done
for vm in "${MH_VMS[@]}"; do
  wait_for 10 ip link show dev "${TAP[$vm]}" || fail "tap of VM $vm did not appear"
  new_netns n "$vm"
  NS[$vm]=$n
  mh_setup_vm "$vm" "$n" "${TAP[$vm]}" 2>"$E2E_TMP/err" || fail "VM $vm: $(cat "$E2E_TMP/err")"
done

# The underlay capture runs from before the first tenant packet to the end of the checks.
ip netns exec "$FABRIC" tcpdump -i br0 -n -U -s 256 -w "$E2E_TMP/br0.pcap" \
  >"$E2E_TMP/tcpdump-br0.log" 2>&1 &
register_pid $!
ip netns exec "$FABRIC" tcpdump -i "${UPLINK[h3]}" -n -U -s 256 -w "$E2E_TMP/h3.pcap" \
  >"$E2E_TMP/tcpdump-h3.log" 2>&1 &
register_pid $!
wait_for 10 grep -q "listening on br0" "$E2E_TMP/tcpdump-br0.log" || fail "tcpdump on br0 did not start"
wait_for 10 grep -q "listening on" "$E2E_TMP/tcpdump-h3.log" || fail "tcpdump on h3's uplink did not start"

check "every host gets the same tenants, its identity, the other hosts and where each VM lives"
for h in "${MH_HOSTS[@]}"; do
  mh_configure "$h" 2>"$E2E_TMP/err" || fail "configuring $h: $(cat "$E2E_TMP/err")"
done
# Each host resolves the underlay next hops towards the others by itself (ARP on its uplink).
resolved_all() {
  local h
  for h in "${MH_HOSTS[@]}"; do
    hctl "$h" --json underlay show >"$E2E_TMP/ul-$h.json" 2>/dev/null || return 1
    [ "$(jq_file "$E2E_TMP/ul-$h.json" \
      'all(r.get("resolved", False) for r in d["remote_hosts"]) and len(d["remote_hosts"]) == 2')" = true ] ||
      return 1
  done
}
wait_for 20 resolved_all || fail "the hosts did not resolve their underlay paths within 20 s: $(cat "$E2E_TMP"/ul-*.json)"
jq_file "$E2E_TMP/ul-h1.json" \
  '" ".join("%s via %s (%s)" % (r["host_id"], r["nexthop"], r["nexthop_mac"]) for r in d["remote_hosts"])'
expect_eq "h1 reaches h3 through the fabric router" \
  "$(jq_file "$E2E_TMP/ul-h1.json" '[r["nexthop"] for r in d["remote_hosts"] if r["host_id"] == "h3"][0]')" \
  "$MH_FABRIC_IP"

vmx() {
  local vm=$1
  shift
  ip netns exec "${NS[$vm]}" "$@"
}
PING_WAIT=10
ping_ok() {  # VM DEST COUNT
  local out rc
  out=$(vmx "$1" ping -c "$3" -i 0.2 -W "$PING_WAIT" "$2" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [[ $out != *"$3 packets transmitted, $3 received"* ]]; then
    fail "ping from $1 to $2: exit status $rc: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
  fi
  log "    ok: $1 -> $2: $3/$3 replies"
}
ping_fails() {  # VM DEST
  local out
  out=$(vmx "$1" ping -c 3 -i 0.2 -W 2 "$2" 2>&1)
  [[ $out == *" 0 received"* ]] || fail "ping from $1 to $2 should get no reply: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
  log "    ok: $1 -> $2: no reply"
}
# tcp_copy FROM TO DEST_IP PORT: sends 2 MiB of random bytes over TCP; the bytes must arrive intact.
head -c 2097152 /dev/urandom >"$E2E_TMP/payload"
tcp_copy() {
  local from=$1 to=$2 dst=$3 port=$4 out="$E2E_TMP/recv-$1-$2"
  vmx "$to" timeout 60 socat -u "TCP-LISTEN:$port,reuseaddr" "OPEN:$out,creat,trunc" &
  local lpid=$!
  register_pid "$lpid"
  wait_for 10 vmx "$to" sh -c "ss -ltn | grep -q ':$port '" || fail "no listener on $to:$port"
  vmx "$from" timeout 60 socat -u "OPEN:$E2E_TMP/payload" "TCP:$dst:$port" ||
    fail "TCP from $from to $dst:$port failed"
  wait "$lpid" 2>/dev/null
  expect_eq "sha256 of 2 MiB $from -> $to over TCP" "$(sha256sum <"$out" | cut -d' ' -f1)" \
    "$(sha256sum <"$E2E_TMP/payload" | cut -d' ' -f1)"
}

check "same subnet across hosts: a1@h1 <-> a2@h2 (switched, VNI 101)"
ping_ok a1 "${MH_VM_IP[a2]}" 5
ping_ok a2 "${MH_VM_IP[a1]}" 3
tcp_copy a1 a2 "${MH_VM_IP[a2]}" 5001

check "different subnets of router ra across hosts: a1@h1 <-> a3@h3 (routed at the source host)"
ping_ok a1 "${MH_VM_IP[a3]}" 5
ping_ok a3 "${MH_VM_IP[a1]}" 3
tcp_copy a3 a1 "${MH_VM_IP[a1]}" 5002
out=$(vmx a1 traceroute -n -q 1 -w 3 -m 4 "${MH_VM_IP[a3]}" 2>&1) || true
hops=$(grep -cE '^ *[0-9]+ ' <<<"$out")
expect_eq "traceroute a1 -> a3: hops (the gateway, then a3)" "$hops" 2

check "two tenants with the same CIDRs stay apart across hosts"
ping_ok b1 "${MH_VM_IP[b3]}" 3
hctl h3 --json stats >"$E2E_TMP/h3-before.json" || fail "stats h3"
ping_ok a1 "${MH_VM_IP[a3]}" 3  # the same address as b3: must reach a3 only
hctl h3 --json stats >"$E2E_TMP/h3-after.json" || fail "stats h3"
b3_rx_before=$(jq_file "$E2E_TMP/h3-before.json" 'pstat(d, "b3", "tx_packets")')
b3_rx_after=$(jq_file "$E2E_TMP/h3-after.json" 'pstat(d, "b3", "tx_packets")')
expect_eq "frames h3 delivered to b3 while a1 pinged 10.0.2.13" "$((b3_rx_after - b3_rx_before))" 0
ping_fails b1 "${MH_VM_IP[a2]}"  # tenant A's a2 address has no owner in tenant B

check "the overlay MTU: a VM with a 1500-byte MTU gets 'fragmentation needed' (MTU 1450)"
vmx a1 ip link set dev "${TAP[a1]}" mtu 1500 || fail "cannot raise a1's MTU"
out=$(vmx a1 ping -c 2 -i 0.5 -W 3 -M do -s 1472 "${MH_VM_IP[a3]}" 2>&1) || true
expect_contains "ping -M do -s 1472 a1 -> a3" "$out" "mtu = 1450"
ping_ok a1 "${MH_VM_IP[a3]}" 2
vmx a1 ping -c 2 -i 0.2 -W 3 -M do -s 1422 "${MH_VM_IP[a3]}" >/dev/null 2>&1 ||
  fail "a 1450-byte DF ping from a1 to a3 did not get through"
log "    ok: 1450-byte DF packets pass"
hctl h1 --json stats >"$E2E_TMP/h1.json" || fail "stats h1"
expect_ge "h1: a1's overlay_mtu_exceeded drops" "$(jq_file "$E2E_TMP/h1.json" 'pdrop(d, "a1", "overlay_mtu_exceeded")')" 1
expect_gt "h1: vxlan_encapsulated" "$(jq_file "$E2E_TMP/h1.json" 'wsum(d, "vxlan_encapsulated")')" 1000
expect_gt "h1: vxlan_decapsulated" "$(jq_file "$E2E_TMP/h1.json" 'wsum(d, "vxlan_decapsulated")')" 1000

check "broadcast inside na1 reaches a2 on h2 (head-end replication), and not with flooding off"
bcast_seen() {  # VM: sends a UDP broadcast from a1; true if VM's tcpdump saw it
  local vm=$1 cap="$E2E_TMP/bcast-$1.txt"
  vmx "$vm" timeout 8 tcpdump -i "${TAP[$vm]}" -n -c 1 -l "udp port 9999 and dst host 10.0.1.255" \
    >"$cap" 2>"$cap.err" &
  local tpid=$!
  wait_for 5 grep -q listening "$cap.err"
  local i
  for i in 1 2 3; do
    vmx a1 sh -c 'echo hello | socat - UDP-DATAGRAM:10.0.1.255:9999,broadcast' 2>/dev/null
    sleep 0.3
  done
  wait "$tpid" 2>/dev/null
  grep -q "10.0.1.255.9999" "$cap"
}
bcast_seen a2 || fail "a broadcast from a1 did not reach a2 on h2"
log "    ok: a1's broadcast arrived at a2 (h2)"
mh_ctl h1 network add na1 --segmentation-id 101 --tenant tenant-a --mtu "$MH_NET_MTU" --flood off \
  --replace 2>"$E2E_TMP/err" || fail "$(cat "$E2E_TMP/err")"
if bcast_seen a2; then fail "with flooding off on h1, a broadcast from a1 still reached a2"; fi
log "    ok: with na1's flooding off on h1, a2 got nothing"
mh_ctl h1 network add na1 --segmentation-id 101 --tenant tenant-a --mtu "$MH_NET_MTU" --flood all \
  --replace 2>"$E2E_TMP/err" || fail "$(cat "$E2E_TMP/err")"

check "the underlay capture: VNIs, DVR MACs on routed frames, no ARP and no gateway MAC"
sleep 1  # tcpdump -U writes each packet at once; give the last ones a moment
/usr/bin/python3 - "$E2E_TMP/br0.pcap" "$E2E_TMP/h3.pcap" <<'PY' || fail "capture checks failed"
import sys
from scapy.all import rdpcap, Ether, IP, ARP, ICMP
from scapy.layers.vxlan import VXLAN
DVR = {"h1": "02:d0:00:00:00:01", "h2": "02:d0:00:00:00:02", "h3": "02:d0:00:00:00:03"}
GW = {"02:0a:00:00:01:01", "02:0a:00:00:02:01", "02:0b:00:00:01:01", "02:0b:00:00:02:01"}
T = {"h1": "192.0.2.1", "h2": "192.0.2.2", "h3": "198.51.100.3"}
A1, A2, A3 = "02:aa:00:00:00:01", "02:aa:00:00:00:02", "02:aa:00:00:00:03"
br0, far = rdpcap(sys.argv[1]), rdpcap(sys.argv[2])
pkts = br0 + far
vx = [p for p in pkts if VXLAN in p]
bad = []
def flows(pred):
    return [p for p in vx if pred(p[IP], p[VXLAN].vni, p[VXLAN].payload)]
print("    %d packets captured, %d of them VXLAN" % (len(pkts), len(vx)))
same = flows(lambda o, vni, i: i.src == A1 and i.dst == A2)
if not same or any(p[VXLAN].vni != 101 or p[IP].src != T["h1"] or p[IP].dst != T["h2"] for p in same):
    bad.append("a1 -> a2 must be VNI 101 from h1 to h2 with a1's own MAC (%d frames)" % len(same))
routed = flows(lambda o, vni, i: i.dst == A3)
if not routed or any(p[VXLAN].payload.src != DVR["h1"] or p[VXLAN].vni != 102 or
                     p[IP].dst != T["h3"] for p in routed):
    bad.append("frames to a3 must carry h1's DVR MAC, VNI 102, to h3 (%d frames)" % len(routed))
back = flows(lambda o, vni, i: i.dst == A1 and o.src == T["h3"])
if not back or any(p[VXLAN].payload.src != DVR["h3"] or p[VXLAN].vni != 101 for p in back):
    bad.append("a3's replies to a1 must carry h3's DVR MAC on VNI 101 (%d frames)" % len(back))
b = flows(lambda o, vni, i: i.src == "02:bb:00:00:00:01" or i.dst == "02:bb:00:00:00:03")
if not b or any(p[VXLAN].vni not in (201, 202) for p in b):
    bad.append("tenant B's frames must use its own VNIs 201/202")
arp_inner = [p for p in vx if ARP in p[VXLAN].payload]
if arp_inner:
    bad.append("%d ARP frames crossed the underlay inside VXLAN" % len(arp_inner))
gw_src = [p for p in vx if p[VXLAN].payload.src in GW]
if gw_src:
    bad.append("%d frames on the underlay carry a gateway MAC as source" % len(gw_src))
if any(p[IP].flags.DF != 1 for p in vx):
    bad.append("outer headers must have DF set")
# Captured on the sender's own link (h1, h2 on the bridge; h3 on its routed link), TTL is 64.
fresh = [p for p in br0 if VXLAN in p and p[IP].src in (T["h1"], T["h2"])] + \
        [p for p in far if VXLAN in p and p[IP].src == T["h3"]]
if not fresh or any(p[IP].ttl != 64 for p in fresh):
    bad.append("outer TTL must be 64 as the sender sends it")
vnis = sorted({p[VXLAN].vni for p in vx})
print("    VNIs seen: %s" % vnis)
print("    routed frames to a3: %d, all with source %s" % (len(routed), DVR["h1"]))
for b_ in bad:
    print("FAIL: " + b_)
sys.exit(1 if bad else 0)
PY
log "    ok: capture checks"

check "moving a2 from h2 to h3: the port is re-created there, two updates, a1's pings resume"
new_tap=$(iface a2m)
hctl h3 port add a2m tap "iface=$new_tap" >/dev/null || fail "port add on h3"
wait_for 10 ip link show dev "$new_tap" || fail "the new tap did not appear"
vmx a1 ping -i 0.2 -W 1 -c 150 "${MH_VM_IP[a2]}" >"$E2E_TMP/move-ping.txt" 2>&1 &
PING_PID=$!
register_pid $PING_PID
sleep 1
hctl h2 port remove a2 >/dev/null || fail "port remove on h2"
ip link set dev "$new_tap" netns "${NS[a2]}" || fail "moving the new tap into a2"
vmx a2 sysctl -qw "net.ipv6.conf.$new_tap.disable_ipv6=1"
vmx a2 ip link set dev "$new_tap" address "${MH_VM_MAC[a2]}" mtu "$MH_NET_MTU" || fail "a2 mac"
vmx a2 ip addr add "${MH_VM_IP[a2]}/24" dev "$new_tap" || fail "a2 address"
vmx a2 ip link set dev "$new_tap" up || fail "a2 up"
vmx a2 ip route replace default via "${MH_NET_GW[na1]}" dev "$new_tap" || fail "a2 route"
TAP[a2]=$new_tap
# The management plane's updates: the port is bound on h3 (dataplane port a2m) and lives on h3
# for everyone else.
MH_VM_HOST[a2]=h3
for h in "${MH_HOSTS[@]}"; do
  if [ "$h" = h3 ]; then loc=(--port a2m); else loc=(--host h3); fi
  mh_ctl "$h" vm-port add pa2 --network na1 --mac "${MH_VM_MAC[a2]}" --ip "${MH_VM_IP[a2]}" \
    "${loc[@]}" --replace 2>"$E2E_TMP/err" || fail "$(cat "$E2E_TMP/err")"
done
moved_at=$(wc -l <"$E2E_TMP/move-ping.txt")
wait_for 20 sh -c "tail -n +$((moved_at + 1)) '$E2E_TMP/move-ping.txt' | grep -q 'bytes from'" ||
  fail "a1's pings to a2 did not resume within 20 s of the move"
log "    ok: a1's ping to a2 resumed after the move"
kill "$PING_PID" 2>/dev/null
ping_ok a1 "${MH_VM_IP[a2]}" 3
hctl h3 --json stats >"$E2E_TMP/h3-moved.json" || fail "stats h3"
expect_gt "h3: frames delivered to a2 on its new port" "$(jq_file "$E2E_TMP/h3-moved.json" 'pstat(d, "a2m", "tx_packets")')" 0
tcp_copy a2 a1 "${MH_VM_IP[a1]}" 5003

pass
