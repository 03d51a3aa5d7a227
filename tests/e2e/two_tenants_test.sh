#!/usr/bin/env bash
# East-west distributed routing with two tenants that use the SAME addresses (the topology of
# scripts/lib/topology.sh): four tap ports, each in its own namespace (a "VM"); each tenant has
# a router joining 10.0.1.0/24 and 10.0.2.0/24. Checks that traffic is routed within a tenant
# (ping, gateway ping, a 12 MiB TCP transfer, traceroute with exactly one hop, TTL exceeded,
# ARP answered with the gateway MAC), that nothing of one tenant reaches the other (ping, TCP,
# a frame addressed to the other tenant's gateway MAC), that the counters match the traffic
# exactly, and what dvrctl shows.
# Usage: two_tenants_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/topology.sh
. "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib/topology.sh"
e2e_init two_tenants "$@"
need_tool socat sha256sum ping traceroute tcpdump ss timeout

# ----------------------------------------------------------------------------------------------
# Names unique to this run: the role first, so that truncating to 15 characters only shortens
# the random tail.
R=$(rand4)
declare -A TAP NS
for vm in "${TOPO_VMS[@]}"; do
  t="tt${vm}$$${R}"
  TAP[$vm]=${t:0:15}
  register_link "${TAP[$vm]}"
done
mapfile -t PORT_ARGS < <(topo_port_args "${TAP[a1]}" "${TAP[a2]}" "${TAP[b1]}" "${TAP[b2]}")

start_dvrd "${PORT_ARGS[@]}"

check "four tap ports, each moved into its own namespace as a VM; both tenants configured"
for vm in "${TOPO_VMS[@]}"; do
  wait_for 10 ip link show dev "${TAP[$vm]}" || fail "tap interface ${TAP[$vm]} did not appear"
done
for vm in "${TOPO_VMS[@]}"; do
  new_netns n "$vm"
  NS[$vm]=$n
  topo_setup_vm "$vm" "$n" "${TAP[$vm]}" 2>"$E2E_TMP/setup.err" ||
    fail "setting up VM $vm: $(cat "$E2E_TMP/setup.err")"
  log "    ok: $vm: ${TAP[$vm]} ${TOPO_MAC[$vm]} ${TOPO_IP[$vm]}/24 via ${TOPO_GW[$vm]} in ${NS[$vm]}"
done
topo_configure_model 2>"$E2E_TMP/model.err" || fail "configuring the tenants: $(cat "$E2E_TMP/model.err")"
log "    ok: routers ra rb, networks, subnets, interfaces and VM ports pa1 pa2 pb1 pb2 configured"

# vmx VM COMMAND...: runs COMMAND in the VM's namespace.
vmx() {
  local vm=$1
  shift
  ip netns exec "${NS[$vm]}" "$@"
}

# delta A B EXPR: the value of the json_eval expression EXPR in snapshot A minus in snapshot B.
delta() { echo $(($(jq_file "$1" "$3") - $(jq_file "$2" "$3"))); }

# The VM kernels send nothing by themselves (IPv6 off) except ARP probes of neighbor entries in
# DELAY or PROBE state (an entry used while stale is re-confirmed after 5 s). Waiting until no
# entry is in such a state makes the counters of an idle VM stand still. 15 s at most.
neigh_busy() { ip -n "$1" neigh show | grep -Eq 'DELAY|PROBE|INCOMPLETE'; }
wait_vms_quiet() {
  local vm deadline=$((SECONDS + 15))
  for vm in "$@"; do
    while neigh_busy "${NS[$vm]}"; do
      [ $SECONDS -ge $deadline ] && fail "the neighbor table of VM $vm did not settle within 15 s"
      sleep 0.2
    done
  done
}

# Reply waits are generous (PING_WAIT seconds): on a loaded machine the kernel may not schedule
# dvrd's worker for a second or more; ping returns as soon as every reply is in, so this costs
# nothing when the replies are prompt. No check depends on how fast anything is.
PING_WAIT=10

# ping_ok VM DEST COUNT: ping -c COUNT from the VM; fails unless every echo was answered.
ping_ok() {
  local out rc
  out=$(vmx "$1" ping -c "$3" -i 0.2 -W "$PING_WAIT" "$2" 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || [[ $out != *"$3 packets transmitted, $3 received"* ]]; then
    fail "ping from $1 (${TOPO_IP[$1]}) to $2: exit status $rc: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
  fi
  log "    ok: $1 -> $2: $(grep -o '[0-9]* packets transmitted.*loss' <<<"$out")"
}

# ----------------------------------------------------------------------------------------------
check "ping within each tenant: 10.0.1.10 -> 10.0.2.20 and both gateways (same addresses in A and B)"
for t in a b; do
  for dest in 10.0.2.20 10.0.1.1 10.0.2.1; do ping_ok "${t}1" "$dest" 3; done
done
# The reply came from the right VM: TTL 63 (one routed hop) on the routed ping.
out=$(vmx a1 ping -c 1 -W "$PING_WAIT" 10.0.2.20 2>&1)
expect_contains "a1 -> 10.0.2.20 reply (one routed hop: ttl 64 - 1)" "$out" "ttl=63"

check "ARP: each VM learned its own tenant's gateway MAC"
for vm in a1 a2 b1 b2; do
  out=$(ip -n "${NS[$vm]}" neigh show "${TOPO_GW[$vm]}")
  expect_contains "$vm: ip neigh show ${TOPO_GW[$vm]} ($out)" "$out" "lladdr ${TOPO_GWMAC[$vm]}"
done

# ----------------------------------------------------------------------------------------------
check "counters: 20 pings a1 -> a2 are exactly 40 routed packets of ra, nothing in tenant B"
wait_vms_quiet a1 a2 b1 b2
B="$E2E_TMP/c6-before.json"
A="$E2E_TMP/c6-after.json"
settled_stats "$B"
out=$(vmx a1 ping -c 20 -i 0.05 -W "$PING_WAIT" 10.0.2.20 2>&1)
[[ $out == *"20 packets transmitted, 20 received"* ]] ||
  fail "ping -c 20 a1 -> 10.0.2.20: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
settled_stats "$A"
expect_eq "ra routed_packets delta (20 requests + 20 replies)" "$(delta "$A" "$B" 'rstat(d,"ra")')" 40
expect_eq "rb routed_packets delta" "$(delta "$A" "$B" 'rstat(d,"rb")')" 0
expect_eq "ra drops delta" "$(delta "$A" "$B" 'sum(int(r["packets"]) for r in router_stats(d,"ra")["drop_reasons"])')" 0
# Everything else a1 and a2 exchanged with dvrd is ARP, answered out of the port it came from:
# rx = 20 + ARP requests, tx = 20 + ARP replies, and the replies are all the fast path made.
k1=$(($(delta "$A" "$B" 'pstat(d,"a1","rx_packets")') - 20))
k2=$(($(delta "$A" "$B" 'pstat(d,"a2","rx_packets")') - 20))
expect_ge "a1 rx_packets delta - 20 echo requests (ARP requests from a1)" "$k1" 0
expect_ge "a2 rx_packets delta - 20 echo replies (ARP requests from a2)" "$k2" 0
expect_eq "a1 tx_packets delta (20 replies + a1's ARP answered)" "$(delta "$A" "$B" 'pstat(d,"a1","tx_packets")')" $((20 + k1))
expect_eq "a2 tx_packets delta (20 requests + a2's ARP answered)" "$(delta "$A" "$B" 'pstat(d,"a2","tx_packets")')" $((20 + k2))
expect_eq "ARP replies made by the workers" "$(delta "$A" "$B" 'wsum(d,"arp_replies")')" $((k1 + k2))
# 98-byte echo frames (14 + 20 + 8 + 56), 42-byte ARP frames; routing keeps the size.
expect_eq "a1 rx_bytes delta" "$(delta "$A" "$B" 'pstat(d,"a1","rx_bytes")')" $((20 * 98 + 42 * k1))
expect_eq "a2 tx_bytes delta" "$(delta "$A" "$B" 'pstat(d,"a2","tx_bytes")')" $((20 * 98 + 42 * k2))
# Every frame enters ip4-fast, which routes the 40 echo packets itself: only the ARP frames go
# on to the staged chain (port-input onwards), and nothing needed ip4-rewrite.
expect_eq "ip4-fast stage packets delta (every frame)" "$(delta "$A" "$B" 'stage_packets(d,"ip4-fast")')" $((40 + k1 + k2))
expect_eq "port-input stage packets delta (the ARP frames)" "$(delta "$A" "$B" 'stage_packets(d,"port-input")')" $((k1 + k2))
expect_eq "ip4-rewrite stage packets delta" "$(delta "$A" "$B" 'stage_packets(d,"ip4-rewrite")')" 0
for p in a1 a2; do
  expect_eq "$p drops delta" "$(delta "$A" "$B" "pstat(d,'$p','drops')")" 0
done
for p in b1 b2; do
  expect_eq "$p rx_packets delta" "$(delta "$A" "$B" "pstat(d,'$p','rx_packets')")" 0
  expect_eq "$p tx_packets delta" "$(delta "$A" "$B" "pstat(d,'$p','tx_packets')")" 0
done

# ----------------------------------------------------------------------------------------------
# tcp_transfer T PORT: 12 MiB from T's x1 to T's x2 (10.0.2.20:PORT), routed by T's router.
SIZE=$((12 * 1024 * 1024))
head -c "$SIZE" /dev/urandom >"$E2E_TMP/in.bin" || fail "cannot write the test data"
SUM_IN=$(sha256sum <"$E2E_TMP/in.bin" | cut -d' ' -f1)
tcp_transfer() {
  local t=$1 port=$2 out="$E2E_TMP/out-$1.bin" server start=$SECONDS
  vmx "${t}2" socat -u "TCP-LISTEN:$port,bind=10.0.2.20,reuseaddr" "OPEN:$out,creat,trunc" \
    2>"$E2E_TMP/socat-server-$t.err" &
  server=$!
  register_pid "$server"
  wait_for 10 sh -c "ip netns exec '${NS[${t}2]}' ss -ltn | grep -q '10.0.2.20:$port'" ||
    fail "the socat listener in VM ${t}2 did not start"
  timeout 120 ip netns exec "${NS[${t}1]}" socat -u "OPEN:$E2E_TMP/in.bin" \
    "TCP:10.0.2.20:$port,connect-timeout=10" 2>"$E2E_TMP/socat-client-$t.err" ||
    fail "tenant $t: the TCP sender failed or timed out: $(cat "$E2E_TMP/socat-client-$t.err")"
  wait_exit "$server" 30 || fail "tenant $t: the TCP receiver did not finish within 30 s"
  wait "$server" || fail "tenant $t: the TCP receiver failed: $(cat "$E2E_TMP/socat-server-$t.err")"
  expect_eq "tenant $t: received size" "$(stat -c %s "$out")" "$SIZE"
  expect_eq "tenant $t: sha256 of the received data" "$(sha256sum <"$out" | cut -d' ' -f1)" "$SUM_IN"
  log "    (tenant $t: 12 MiB in about $((SECONDS - start)) s)"
  rm -f "$out"
}

check "a 12 MiB TCP transfer 10.0.1.10 -> 10.0.2.20 within tenant A arrives byte for byte"
stats_snapshot "$E2E_TMP/tcp-before.json"
tcp_transfer a 5001
stats_snapshot "$E2E_TMP/tcp-after.json"
expect_ge "ra routed_packets during the transfer" \
  "$(delta "$E2E_TMP/tcp-after.json" "$E2E_TMP/tcp-before.json" 'rstat(d,"ra")')" $((SIZE / 1500))
expect_ge "a2 tx_bytes during the transfer" \
  "$(delta "$E2E_TMP/tcp-after.json" "$E2E_TMP/tcp-before.json" 'pstat(d,"a2","tx_bytes")')" "$SIZE"

check "the same 12 MiB TCP transfer within tenant B (same addresses) arrives byte for byte"
tcp_transfer b 5001

# ----------------------------------------------------------------------------------------------
check "traceroute 10.0.1.10 -> 10.0.2.20 shows exactly one routed hop (the gateway), in both tenants"
# A probe whose answer takes longer than -w (a worker the machine did not schedule) shows as
# "*": such a run is repeated, up to 3 times; a wrong hop fails at once.
for t in a b; do
  for attempt in 1 2 3; do
    out=$(vmx "${t}1" traceroute -n -w 3 -q 1 -m 5 10.0.2.20 2>&1)
    rc=$?
    [[ $out == *'*'* ]] || break
    log "    (tenant $t: a probe went unanswered within 3 s, attempt $attempt; again)"
  done
  sed 's/^/    /' <<<"$out"
  [ $rc -eq 0 ] || fail "tenant $t: traceroute exited with status $rc"
  hops=$(grep -E '^ *[0-9]+ ' <<<"$out" | awk '{print $1 "=" $2}' | tr '\n' ' ')
  expect_eq "tenant $t: traceroute hops" "$hops" "1=10.0.1.1 2=10.0.2.20 "
done

check "ping -t 1 from a1 to 10.0.2.20: Time to live exceeded from the gateway 10.0.1.1"
B="$E2E_TMP/ttl-before.json"
stats_snapshot "$B"
out=$(vmx a1 ping -c 1 -t 1 -W "$PING_WAIT" 10.0.2.20 2>&1)
sed -n '2p' <<<"$out" | sed 's/^/    /'
expect_contains "ping -t 1 output" "$out" "From 10.0.1.1 icmp_seq=1 Time to live exceeded"
stats_snapshot "$E2E_TMP/ttl-after.json"
expect_ge "ra ttl_exceeded drops delta" "$(delta "$E2E_TMP/ttl-after.json" "$B" 'rdrop(d,"ra","ttl_exceeded")')" 1

# ----------------------------------------------------------------------------------------------
check "isolation: nothing tenant B sends reaches tenant A, not even with A's addresses and gateway MAC"
PORT2=5002
vmx a2 socat -u "TCP-LISTEN:$PORT2,bind=10.0.2.20,reuseaddr" "OPEN:$E2E_TMP/a2-listener.out,creat" \
  2>"$E2E_TMP/a2-listener.err" &
LISTENER=$!
register_pid "$LISTENER"
wait_for 10 sh -c "ip netns exec '${NS[a2]}' ss -ltn | grep -q '10.0.2.20:$PORT2'" ||
  fail "the socat listener in VM a2 did not start"
vmx b2 ss -ltn | grep -q ":$PORT2" && fail "something listens on port $PORT2 in VM b2"
# Everything that enters or leaves a2's interface while tenant B tries.
vmx a2 tcpdump -i "${TAP[a2]}" -n -U -w "$E2E_TMP/a2.pcap" 2>"$E2E_TMP/tcpdump-a2.err" &
TCPDUMP=$!
register_pid "$TCPDUMP"
wait_for 10 grep -q 'listening on' "$E2E_TMP/tcpdump-a2.err" || fail "tcpdump in VM a2 did not start"
wait_vms_quiet a1 a2
B="$E2E_TMP/iso-before.json"
A="$E2E_TMP/iso-after.json"
settled_stats "$B"

log "    b1: ping 10.0.2.20 (tenant B's pb2 has that address too)"
ping_ok b1 10.0.2.20 3
log "    b1: TCP connect to 10.0.2.20:$PORT2 (a listener exists only in tenant A's a2)"
out=$(timeout 20 ip netns exec "${NS[b1]}" socat -u /dev/null \
  "TCP:10.0.2.20:$PORT2,connect-timeout=5" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "tenant B's VM connected to 10.0.2.20:$PORT2, which only tenant A's a2 listens on"
case $out in
  *"Connection refused"*) log "    ok: refused (by b2's kernel): $(tail -n 1 <<<"$out")" ;;
  *) log "    ok: the connection failed (status $rc): $(tail -n 1 <<<"$out")" ;;
esac
log "    b1: 5 IPv4 frames to tenant A's gateway MAC ${TOPO_GWMAC[a1]} (scapy)"
vmx b1 "$E2E_PY" -c '
import sys
from scapy.all import Ether, IP, ICMP, sendp
ifc, src_mac, dst_mac = sys.argv[1:4]
sendp(Ether(src=src_mac, dst=dst_mac) / IP(src="10.0.1.10", dst="10.0.2.20") / ICMP(),
      iface=ifc, count=5, verbose=False)
' "${TAP[b1]}" "${TOPO_MAC[b1]}" "${TOPO_GWMAC[a1]}" >"$E2E_TMP/scapy.out" 2>&1 ||
  fail "scapy could not send from VM b1: $(tail -n 3 "$E2E_TMP/scapy.out")"
settled_stats "$A"
kill_pid "$TCPDUMP"

expect_eq "b1 unknown_unicast drops delta (the 5 frames to A's gateway MAC)" \
  "$(delta "$A" "$B" 'pdrop(d,"b1","unknown_unicast")')" 5
expect_eq "ra routed_packets delta" "$(delta "$A" "$B" 'rstat(d,"ra")')" 0
expect_ge "rb routed_packets delta (B's pings and SYN, routed by B's router)" \
  "$(delta "$A" "$B" 'rstat(d,"rb")')" 7
for f in rx_packets tx_packets drops; do
  expect_eq "a2 $f delta" "$(delta "$A" "$B" "pstat(d,'a2','$f')")" 0
  expect_eq "a1 $f delta" "$(delta "$A" "$B" "pstat(d,'a1','$f')")" 0
done
expect_ge "b2 rx_packets delta (3 echo replies + the RST)" "$(delta "$A" "$B" 'pstat(d,"b2","rx_packets")')" 4
expect_ge "b2 tx_packets delta (3 echo requests + the SYN)" "$(delta "$A" "$B" 'pstat(d,"b2","tx_packets")')" 4
n=$(tcpdump -r "$E2E_TMP/a2.pcap" -n 2>/dev/null | wc -l)
if [ "$n" -ne 0 ]; then
  tcpdump -r "$E2E_TMP/a2.pcap" -n 2>/dev/null | head -n 5 | sed 's/^/    /'
fi
expect_eq "frames seen by tcpdump on a2's interface" "$n" 0
[ -e "$E2E_TMP/a2-listener.out" ] && fail "tenant A's listener accepted a connection while tenant B tried"
proc_alive "$LISTENER" || fail "tenant A's listener exited while tenant B tried"
log "    ok: tenant A's listener saw no connection"
# And the listener was reachable all along, from its own tenant.
# (Not SYSTEM:echo: socat fails the connect with EINTR when the echo's SIGCHLD lands during it.)
timeout 20 ip netns exec "${NS[a1]}" socat -u STDIN "TCP:10.0.2.20:$PORT2,connect-timeout=10" \
  <<<hello-from-a1 2>"$E2E_TMP/a1-connect.err" ||
  fail "a1 could not connect to its own tenant's listener: $(cat "$E2E_TMP/a1-connect.err")"
wait_exit "$LISTENER" 10 || fail "tenant A's listener did not finish after a1's connection"
expect_eq "what tenant A's listener received from a1" "$(cat "$E2E_TMP/a2-listener.out" 2>/dev/null)" hello-from-a1

# ----------------------------------------------------------------------------------------------
check "dvrctl route show / neighbor show / router list / --json stats"
for r in ra rb; do
  t=${r#r}
  ctl --json route show "$r" >"$E2E_TMP/routes-$r.json" || fail "dvrctl --json route show $r failed"
  expect_eq "route show $r" \
    "$(jq_file "$E2E_TMP/routes-$r.json" '" ".join(sorted("%s:%s:%s" % (x["prefix"], x["origin"], x.get("egress_subnet_id") or "-") for x in d["routes"]))')" \
    "10.0.1.0/24:connected:s${t}1 10.0.1.1/32:local:- 10.0.1.10/32:neighbor:s${t}1 10.0.2.0/24:connected:s${t}2 10.0.2.1/32:local:- 10.0.2.20/32:neighbor:s${t}2"
done
ctl route show ra | sed 's/^/    /'
ctl --json neighbor show >"$E2E_TMP/neigh.json" || fail "dvrctl --json neighbor show failed"
for vm in "${TOPO_VMS[@]}"; do
  expect_eq "neighbor ${TOPO_VMPORT[$vm]}" \
    "$(jq_file "$E2E_TMP/neigh.json" "[(n['network_id'], n['ip'], n['mac']) for n in d['neighbors'] if n.get('vm_port_id') == '${TOPO_VMPORT[$vm]}']")" \
    "('${TOPO_NET[$vm]}', '${TOPO_IP[$vm]}', '${TOPO_MAC[$vm]}')"
done
ctl neighbor show | sed 's/^/    /'
ctl router list >"$E2E_TMP/routers.txt" || fail "dvrctl router list failed"
sed 's/^/    /' "$E2E_TMP/routers.txt"
for r in ra rb; do
  grep -Eq "^$r +tenant-${r#r} " "$E2E_TMP/routers.txt" || fail "router list does not show router $r"
done
for vm in "${TOPO_VMS[@]}"; do
  grep -Eq "^${TOPO_ROUTER[$vm]} +${TOPO_IFACE[$vm]} +${TOPO_SUBNET[$vm]} +${TOPO_CIDR[$vm]} +${TOPO_GW[$vm]} +${TOPO_GWMAC[$vm]}\$" \
    "$E2E_TMP/routers.txt" || fail "router list does not show interface ${TOPO_IFACE[$vm]} of ${TOPO_ROUTER[$vm]}"
done
log "    ok: router list shows ra and rb with their interfaces"
stats_snapshot "$E2E_TMP/final.json"
expect_eq "--json stats: ports" "$(jq_file "$E2E_TMP/final.json" 'port_names(d)')" "a1 a2 b1 b2"
expect_eq "--json stats: routers" "$(jq_file "$E2E_TMP/final.json" 'sorted(r["router_id"] for r in d["routers"])')" "ra rb"
expect_eq "--json stats: punts (no port is unbound)" \
  "$(jq_file "$E2E_TMP/final.json" 'sum(int(p["packets"]) for p in d["punts"])')" 0
ctl stats | sed 's/^/    /'

# ----------------------------------------------------------------------------------------------
check "dvrd shuts down cleanly on SIGTERM"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
pass
