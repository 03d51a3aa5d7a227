#!/usr/bin/env bash
# Two namespaces joined by two tap ports that dvrd cross-connects (an L2 patch through dvrd's
# worker): ping and a 2 MiB TCP transfer go across, and the port counters add up.
# Usage: tap_traffic_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init tap_traffic "$@"
need_tool socat sha256sum ping

SUF="$$$(rand4)"
TAPA="dvta${SUF}"
TAPA=${TAPA:0:15}
TAPB="dvtb${SUF}"
TAPB=${TAPB:0:15}
register_link "$TAPA"
register_link "$TAPB"

start_dvrd --port "t1=tap,iface=$TAPA,xconnect=t2" --port "t2=tap,iface=$TAPB,xconnect=t1"

check "dvrd created both tap interfaces; port list shows the cross-connect"
for t in "$TAPA" "$TAPB"; do
  wait_for 10 ip link show dev "$t" || fail "tap interface $t did not appear"
done
ctl --json port list >"$E2E_TMP/list.json" || fail "dvrctl --json port list failed"
expect_eq "ports" "$(jq_file "$E2E_TMP/list.json" 'ports_list(d)')" "t1 t2"
expect_eq "t1 xconnect" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"t1")["spec"]["xconnect"]')" t2
expect_eq "t2 xconnect" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"t2")["spec"]["xconnect"]')" t1

check "move the taps into two namespaces, 10.99.0.1/24 <-> 10.99.0.2/24"
new_netns NS1 ns1
new_netns NS2 ns2
ip link set dev "$TAPA" netns "$NS1" || fail "cannot move $TAPA into $NS1"
ip link set dev "$TAPB" netns "$NS2" || fail "cannot move $TAPB into $NS2"
ip -n "$NS1" addr add 10.99.0.1/24 dev "$TAPA" || fail "ip addr add in $NS1"
ip -n "$NS2" addr add 10.99.0.2/24 dev "$TAPB" || fail "ip addr add in $NS2"
ip -n "$NS1" link set dev "$TAPA" up || fail "link up in $NS1"
ip -n "$NS2" link set dev "$TAPB" up || fail "link up in $NS2"
log "    ok: $NS1/$TAPA = 10.99.0.1, $NS2/$TAPB = 10.99.0.2"

# Counters before the traffic (the kernel may have sent a frame or two while the taps were
# still in the root namespace).
stable_stats "$E2E_TMP/before.json"

check "ping -c 5 from ns1 to ns2 through dvrd"
ip netns exec "$NS1" ping -c 5 -i 0.2 -W 2 10.99.0.2 >"$E2E_TMP/ping.out" 2>&1
rc=$?
sed 's/^/    /' "$E2E_TMP/ping.out" | tail -n 3
expect_eq "ping exit status" "$rc" 0
expect_contains "ping summary" "$(cat "$E2E_TMP/ping.out")" "5 packets transmitted, 5 received"

check "a 2 MiB TCP transfer from ns1 to ns2 arrives byte for byte"
head -c 2097152 /dev/urandom >"$E2E_TMP/in.bin"
ip netns exec "$NS2" socat -u TCP-LISTEN:5001,bind=10.99.0.2,reuseaddr \
  "OPEN:$E2E_TMP/out.bin,creat,trunc" 2>"$E2E_TMP/socat-server.err" &
SERVER=$!
register_pid "$SERVER"
wait_for 10 sh -c "ip netns exec '$NS2' ss -ltn | grep -q ':5001'" ||
  fail "the socat listener in $NS2 did not start"
timeout 120 ip netns exec "$NS1" socat -u "OPEN:$E2E_TMP/in.bin" TCP:10.99.0.2:5001,connect-timeout=10 \
  2>"$E2E_TMP/socat-client.err" || fail "the TCP client failed: $(cat "$E2E_TMP/socat-client.err")"
wait_exit "$SERVER" 30 || fail "the TCP receiver did not finish within 30 s"
wait "$SERVER" || fail "the TCP receiver failed: $(cat "$E2E_TMP/socat-server.err")"
SUM_IN=$(sha256sum <"$E2E_TMP/in.bin" | cut -d' ' -f1)
SUM_OUT=$(sha256sum <"$E2E_TMP/out.bin" | cut -d' ' -f1)
expect_eq "received size" "$(stat -c %s "$E2E_TMP/out.bin")" 2097152
expect_eq "sha256 of the received data" "$SUM_OUT" "$SUM_IN"

check "counters: traffic in both directions, and every received frame was sent or dropped"
stable_stats "$E2E_TMP/after.json"
sed 's/^/    /' <(ctl stats | head -n 8)
A="$E2E_TMP/after.json"
B="$E2E_TMP/before.json"
delta() { echo $(($(jq_file "$A" "pstat(d,'$1','$2')") - $(jq_file "$B" "pstat(d,'$1','$2')"))); }
# ns1 -> ns2: 5 echo requests and 2 MiB of TCP payload enter at t1 and leave at t2.
expect_ge "t1 rx_packets during the test" "$(delta t1 rx_packets)" 5
expect_ge "t2 tx_packets during the test" "$(delta t2 tx_packets)" 5
expect_ge "t1 rx_bytes during the test" "$(delta t1 rx_bytes)" 2097152
expect_ge "t2 tx_bytes during the test" "$(delta t2 tx_bytes)" 2097152
# ns2 -> ns1: 5 echo replies and the TCP acknowledgements.
expect_ge "t2 rx_packets during the test" "$(delta t2 rx_packets)" 5
expect_ge "t1 tx_packets during the test" "$(delta t1 tx_packets)" 5
# Conservation: what t1 received either left on t2 or was dropped (on t1's way in, or by t2's
# tx queue); the same the other way round. Exact, since the counters have settled.
for dir in "t1 t2" "t2 t1"; do
  read -r from to <<<"$dir"
  rx=$(jq_file "$A" "pstat(d,'$from','rx_packets')")
  tx=$(jq_file "$A" "pstat(d,'$to','tx_packets')")
  rxdrops=$(jq_file "$A" "pstat(d,'$from','drops') - sum(pdrop(d,'$from',r) for r in $TX_SIDE_DROPS)")
  txdrops=$(jq_file "$A" "sum(pdrop(d,'$to',r) for r in $TX_SIDE_DROPS)")
  expect_eq "$from.rx_packets vs $to.tx_packets + drops ($rx = $tx + $rxdrops + $txdrops)" \
    "$rx" "$((tx + rxdrops + txdrops))"
  rxb=$(jq_file "$A" "pstat(d,'$from','rx_bytes')")
  txb=$(jq_file "$A" "pstat(d,'$to','tx_bytes')")
  if [ $((rxdrops + txdrops)) -eq 0 ]; then
    expect_eq "$from.rx_bytes = $to.tx_bytes (no drops)" "$rxb" "$txb"
  fi
done
expect_eq "drops summed by reason equal the drops field (t1)" \
  "$(jq_file "$A" 'sum(int(r["packets"]) for r in port_stats(d,"t1")["drop_reasons"])')" \
  "$(jq_file "$A" 'pstat(d,"t1","drops")')"
# The cross-connect takes frames before the punt stage: ARP crosses too, nothing is punted.
expect_eq "arp punts" "$(jq_file "$A" 'sum(int(p["packets"]) for p in d["punts"] if p["reason"]=="arp")')" 0

check "dvrd shuts down cleanly with the taps in other namespaces"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
pass
