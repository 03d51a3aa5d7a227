#!/usr/bin/env bash
# A vhost-user port with a virtio-user peer (dpdk-testpmd in txonly mode, standing in for a
# VM): dvrd receives its frames (and drops them as no_forwarding_path: nothing is configured
# for them), survives the peer's crash, receives again from a new peer on the same socket, and
# shuts down cleanly while that peer is still connected and sending.
# Usage: vhost_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init vhost "$@"
need_tool dpdk-testpmd

VM_SOCK="$E2E_TMP/vm1.sock"
start_dvrd --port "vm1=vhost-user,path=$VM_SOCK"

# start_peer N: a testpmd with a virtio-user device on vm1's socket, sending 64-byte UDP frames.
start_peer() {
  local prefix
  new_prefix prefix "peer$1"
  PEER_LOG="$E2E_TMP/testpmd-$1.log"
  register_log "$PEER_LOG"
  log "starting peer $1: dpdk-testpmd --file-prefix $prefix --vdev net_virtio_user0,path=$VM_SOCK ... --forward-mode=txonly"
  dpdk-testpmd --no-huge -m 256 --no-pci --file-prefix "$prefix" --lcores '0@0,1@1' \
    --log-level=lib.eal:warning --no-telemetry \
    --vdev "net_virtio_user0,path=$VM_SOCK,queues=1" -- \
    --no-mlockall --forward-mode=txonly --total-num-mbufs=2048 --stats-period 1 \
    </dev/null >"$PEER_LOG" 2>&1 &
  PEER_PID=$!
  register_pid "$PEER_PID"
}

vm1_rx() { ctl --json stats | json_eval 'pstat(d,"vm1","rx_packets")'; }
vm1_rx_above() { [ "$(vm1_rx)" -gt "$1" ] 2>/dev/null; }
vm1_link() { ctl --json port list | json_eval 'port_info(d,"vm1")["link"]'; }
vm1_link_is() { [ "$(vm1_link)" = "$1" ]; }

check "vm1 is listed, its socket exists, link down without a peer"
wait_for 10 test -S "$VM_SOCK" || fail "dvrd did not create the vhost-user socket $VM_SOCK"
ctl --json port list >"$E2E_TMP/list.json" || fail "dvrctl --json port list failed"
expect_eq "ports" "$(jq_file "$E2E_TMP/list.json" 'ports_list(d)')" vm1
expect_eq "vm1 driver" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"vm1")["driver"]')" net_vhost
expect_eq "vm1 link without a peer" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"vm1")["link"]')" LINK_STATE_DOWN
expect_eq "vm1 rx_packets without a peer" "$(vm1_rx)" 0

check "peer 1 connects: link up, vm1 receives more than 1000 frames"
start_peer 1
wait_for 30 vm1_link_is LINK_STATE_UP || fail "vm1's link did not come up within 30 s of the peer starting (link: $(vm1_link))"
log "    ok: vm1 link is up"
wait_for 30 vm1_rx_above 1000 || fail "vm1 rx_packets did not pass 1000 within 30 s (now $(vm1_rx))"
log "    ok: vm1 rx_packets passed 1000"
proc_alive "$PEER_PID" || fail "peer 1 (testpmd) exited early"

check "peer 1 crashes (SIGKILL): dvrd stays up, link goes down, counters add up"
kill -KILL "$PEER_PID"
wait "$PEER_PID" 2>/dev/null
proc_alive "$DVRD_PID" || fail "dvrd died when the peer went away"
wait_for 20 vm1_link_is LINK_STATE_DOWN || fail "vm1's link is still '$(vm1_link)' 20 s after the peer died"
log "    ok: vm1 link is down"
stable_stats "$E2E_TMP/s1.json"
RX1=$(jq_file "$E2E_TMP/s1.json" 'pstat(d,"vm1","rx_packets")')
expect_gt "vm1 rx_packets after peer 1" "$RX1" 1000
expect_eq "vm1 drops as no_forwarding_path = rx_packets" \
  "$(jq_file "$E2E_TMP/s1.json" 'pdrop(d,"vm1","no_forwarding_path")')" "$RX1"
expect_eq "vm1 drops (all reasons) = rx_packets" "$(jq_file "$E2E_TMP/s1.json" 'pstat(d,"vm1","drops")')" "$RX1"
# testpmd's txonly frames are 64 bytes (Ethernet + IPv4 + UDP, padded).
expect_eq "vm1 rx_bytes = 64 x rx_packets" "$(jq_file "$E2E_TMP/s1.json" 'pstat(d,"vm1","rx_bytes")')" \
  "$((RX1 * 64))"
expect_eq "vm1 tx_packets (nothing goes to the VM)" "$(jq_file "$E2E_TMP/s1.json" 'pstat(d,"vm1","tx_packets")')" 0
expect_eq "frames punted" "$(jq_file "$E2E_TMP/s1.json" 'worker(d,0)["punted"]')" 0
expect_eq "vm1 still listed" "$(ctl --json port list | json_eval 'ports_list(d)')" vm1
[ -S "$VM_SOCK" ] || fail "the vhost-user socket is gone after the peer's crash"
log "    ok: the vhost-user socket is still there"

check "peer 2 reconnects on the same socket: link up, rx_packets grows again"
start_peer 2
wait_for 30 vm1_link_is LINK_STATE_UP || fail "vm1's link did not come up again (link: $(vm1_link))"
log "    ok: vm1 link is up again"
TARGET=$((RX1 + 1000))
wait_for 30 vm1_rx_above "$TARGET" || fail "vm1 rx_packets did not grow by 1000 after the reconnect (was $RX1, now $(vm1_rx))"
log "    ok: vm1 rx_packets grew past $TARGET"

check "SIGTERM to dvrd while peer 2 is still sending: exit 0, vhost-user socket removed"
proc_alive "$PEER_PID" || fail "peer 2 (testpmd) exited early"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
[ ! -e "$VM_SOCK" ] || fail "the vhost-user socket $VM_SOCK is still there after dvrd exited"
log "    ok: vhost-user socket removed"
pass
