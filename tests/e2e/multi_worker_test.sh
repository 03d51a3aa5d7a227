#!/usr/bin/env bash
# Two workers: every port gets one rx and one tx queue per worker, both workers poll and do
# work. A null source (it generates frames as fast as it is polled) is cross-connected to a
# null sink (no-rx=1). Then the sink is removed and re-added under load: the source's frames
# are dropped as xconnect_peer_down meanwhile and reach the sink again afterwards.
# Usage: multi_worker_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init multi_worker "$@"

# Main lcore 0 on cpu 0; workers: lcore 1 on cpu 0, lcore 2 on cpu 1.
start_dvrd --port "src=null,xconnect=sink" --port "sink=null,no-rx=1" -- --lcores '0@0,1@0,2@1'

check "two workers"
out=$(ctl --json version) || fail "dvrctl --json version failed"
expect_eq "worker_count" "$(json_eval 'd["worker_count"]' <<<"$out")" 2

check "each null port has 2 rx and 2 tx queues"
ctl --json port list >"$E2E_TMP/list.json" || fail "dvrctl --json port list failed"
expect_eq "ports" "$(jq_file "$E2E_TMP/list.json" 'ports_list(d)')" "sink src"
for p in src sink; do
  expect_eq "$p rx_queues" "$(jq_file "$E2E_TMP/list.json" "port_info(d,'$p')['rx_queues']")" 2
  expect_eq "$p tx_queues" "$(jq_file "$E2E_TMP/list.json" "port_info(d,'$p')['tx_queues']")" 2
done
expect_eq "src xconnect" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"src")["spec"]["xconnect"]')" sink

sink_tx() { ctl --json stats | json_eval 'pstat(d,"sink","tx_packets")'; }
sink_tx_above() { [ "$(sink_tx)" -gt "$1" ] 2>/dev/null; }
src_drop() { ctl --json stats | json_eval "pdrop(d,'src','$1')"; }
src_drop_above() { [ "$(src_drop "$1")" -gt "$2" ] 2>/dev/null; }

check "both workers poll queues and are busy; the sink's tx_packets grows"
wait_for 20 sink_tx_above 0 || fail "the sink transmitted nothing within 20 s"
stats_snapshot "$E2E_TMP/s1.json"
wait_for 20 sink_tx_above "$(jq_file "$E2E_TMP/s1.json" 'pstat(d,"sink","tx_packets")')" ||
  fail "the sink's tx_packets stopped growing"
stats_snapshot "$E2E_TMP/s2.json"
S1="$E2E_TMP/s1.json"
S2="$E2E_TMP/s2.json"
expect_eq "workers in the stats" "$(jq_file "$S2" 'len(d["workers"])')" 2
for w in 0 1; do
  expect_ge "worker $w rx_queues" "$(jq_file "$S2" "int(worker(d,$w)['rx_queues'])")" 1
  expect_gt "worker $w busy_cycles" "$(jq_file "$S2" "int(worker(d,$w)['busy_cycles'])")" 0
  expect_gt "worker $w busy_cycles grew" \
    "$(($(jq_file "$S2" "int(worker(d,$w)['busy_cycles'])") - $(jq_file "$S1" "int(worker(d,$w)['busy_cycles'])")))" 0
done
expect_eq "rx queues polled in total (2 ports x 2 queues)" \
  "$(jq_file "$S2" 'sum(int(w["rx_queues"]) for w in d["workers"])')" 4
expect_gt "sink tx_packets grew between two snapshots" \
  "$(($(jq_file "$S2" 'pstat(d,"sink","tx_packets")') - $(jq_file "$S1" 'pstat(d,"sink","tx_packets")')))" 0
expect_gt "src rx_packets" "$(jq_file "$S2" 'pstat(d,"src","rx_packets")')" 0
expect_eq "sink rx_packets (no-rx=1)" "$(jq_file "$S2" 'pstat(d,"sink","rx_packets")')" 0
expect_eq "src no_forwarding_path drops (it is cross-connected)" \
  "$(jq_file "$S2" 'pdrop(d,"src","no_forwarding_path")')" 0

check "remove the sink under load: src's frames are dropped as xconnect_peer_down"
ctl port remove sink >"$E2E_TMP/rm.out" 2>&1 || fail "dvrctl port remove sink: $(cat "$E2E_TMP/rm.out")"
expect_eq "ports" "$(ctl --json port list | json_eval 'ports_list(d)')" src
wait_for 20 src_drop_above xconnect_peer_down 0 ||
  fail "no xconnect_peer_down drops on src within 20 s of removing its peer"
D1=$(src_drop xconnect_peer_down)
wait_for 20 src_drop_above xconnect_peer_down "$D1" || fail "xconnect_peer_down drops stopped growing"
log "    ok: xconnect_peer_down drops grow (> $D1)"
proc_alive "$DVRD_PID" || fail "dvrd died"

check "re-add the sink: the cross-connect resolves again and the new sink transmits"
ctl port add sink null no-rx=1 >"$E2E_TMP/add.out" 2>&1 || fail "dvrctl port add sink: $(cat "$E2E_TMP/add.out")"
wait_for 20 sink_tx_above 0 || fail "the re-added sink transmitted nothing within 20 s"
T1=$(sink_tx)
wait_for 20 sink_tx_above "$T1" || fail "the re-added sink's tx_packets does not grow"
log "    ok: the new sink's tx_packets grows (> $T1)"
D2=$(src_drop xconnect_peer_down)
sleep 1
expect_eq "xconnect_peer_down drops stopped once the peer is back" "$(src_drop xconnect_peer_down)" "$D2"

check "SIGTERM under load: exit 0"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
pass
