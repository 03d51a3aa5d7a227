#!/usr/bin/env bash
# dvrd's life cycle through dvrctl: start, version, port add/list/remove, stats, errors that
# leave the daemon serving, SIGTERM -> exit 0 with the socket and the tap device gone.
# Usage: lifecycle_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init lifecycle "$@"

TAP="dvl$$$(rand4)"
TAP=${TAP:0:15}
register_link "$TAP"

start_dvrd

check "dvrctl version: one worker, development mode"
out=$(ctl --json version) || fail "dvrctl --json version failed"
expect_eq "worker_count" "$(json_eval 'd.get("worker_count")' <<<"$out")" 1
expect_eq "development_mode" "$(json_eval 'd.get("development_mode", False)' <<<"$out")" true
expect_eq "api_version" "$(json_eval 'd.get("api_version")' <<<"$out")" API_VERSION_1
text=$(ctl version) || fail "dvrctl version (table) failed"
expect_contains "dvrctl version" "$text" "development mode:  yes"

check "port add: a null port (no-rx=1) and a tap port ($TAP)"
ctl port add sink null no-rx=1 >"$E2E_TMP/add1.out" 2>&1 ||
  fail "dvrctl port add sink null no-rx=1: $(cat "$E2E_TMP/add1.out")"
expect_contains "port add output" "$(cat "$E2E_TMP/add1.out")" "net_null_sink"
ctl port add tap1 tap "iface=$TAP" >"$E2E_TMP/add2.out" 2>&1 ||
  fail "dvrctl port add tap1 tap iface=$TAP: $(cat "$E2E_TMP/add2.out")"
ip link show dev "$TAP" >/dev/null 2>&1 || fail "dvrd did not create the tap interface $TAP"
log "    ok: interface $TAP exists"

check "port list has exactly both ports"
ctl --json port list >"$E2E_TMP/list.json" || fail "dvrctl --json port list failed"
expect_eq "port names" "$(jq_file "$E2E_TMP/list.json" 'ports_list(d)')" "sink tap1"
expect_eq "sink type" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"sink")["spec"]["type"]')" PORT_TYPE_NULL
expect_eq "sink no-rx arg" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"sink")["spec"]["args"].get("no-rx")')" 1
expect_eq "tap1 driver" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"tap1")["driver"]')" net_tap
expect_eq "tap1 iface arg" "$(jq_file "$E2E_TMP/list.json" 'port_info(d,"tap1")["spec"]["args"].get("iface")')" "$TAP"

check "the issue's own spelling: DVRD_SOCKET instead of --socket, --json after the command"
DVRD_SOCKET="$DVRD_SOCK" "$DVRCTL" port list --json >"$E2E_TMP/list2.json" ||
  fail "DVRD_SOCKET=... dvrctl port list --json failed"
expect_eq "port names (DVRD_SOCKET, --json last)" "$(jq_file "$E2E_TMP/list2.json" 'ports_list(d)')" \
  "sink tap1"

check "adding a port name twice fails and changes nothing"
if ctl port add sink null no-rx=1 >"$E2E_TMP/dup.out" 2>&1; then
  fail "adding 'sink' a second time succeeded"
fi
expect_contains "duplicate add" "$(cat "$E2E_TMP/dup.out")" "already exists"

check "port remove sink -> one port left"
ctl port remove sink >"$E2E_TMP/rm.out" 2>&1 || fail "dvrctl port remove sink: $(cat "$E2E_TMP/rm.out")"
ctl --json port list >"$E2E_TMP/list.json" || fail "dvrctl --json port list failed"
expect_eq "port names" "$(jq_file "$E2E_TMP/list.json" 'ports_list(d)')" "tap1"

check "stats succeeds; the JSON has only the remaining port"
text=$(ctl stats) || fail "dvrctl stats failed"
expect_contains "dvrctl stats" "$text" "tap1"
stats_snapshot "$E2E_TMP/stats.json"
expect_eq "stats ports" "$(jq_file "$E2E_TMP/stats.json" 'port_names(d)')" "tap1"
expect_eq "stats workers" "$(jq_file "$E2E_TMP/stats.json" 'len(d["workers"])')" 1

check "removing a missing port: exit 1 and 'not found'; --missing-ok: exit 0"
ctl port remove sink >"$E2E_TMP/rm2.out" 2>&1
rc=$?
expect_eq "exit status of 'port remove sink' (gone)" "$rc" 1
expect_contains "error message" "$(cat "$E2E_TMP/rm2.out")" "not found"
expect_contains "error message" "$(cat "$E2E_TMP/rm2.out")" "'sink'"
ctl port remove sink --missing-ok >"$E2E_TMP/rm3.out" 2>&1 ||
  fail "'port remove sink --missing-ok' failed: $(cat "$E2E_TMP/rm3.out")"
log "    ok: --missing-ok succeeded"

check "bad port definitions fail with a clear message; tap1 stays"
ctl port add bad1 bogus-type >"$E2E_TMP/bad1.out" 2>&1
rc=$?
expect_eq "exit status of 'port add bad1 bogus-type'" "$rc" 2
expect_contains "message" "$(cat "$E2E_TMP/bad1.out")" "unknown port type 'bogus-type'"
ctl port add bad2 null bogus=1 >"$E2E_TMP/bad2.out" 2>&1
rc=$?
expect_eq "exit status of 'port add bad2 null bogus=1'" "$rc" 1
expect_contains "message" "$(cat "$E2E_TMP/bad2.out")" "unknown argument 'bogus'"
# Valid for dvrd, rejected by the driver (the file does not exist): the probe fails at run time.
ctl port add bad3 pcap "rx_pcap=$E2E_TMP/does-not-exist.pcap" >"$E2E_TMP/bad3.out" 2>&1
rc=$?
expect_eq "exit status of 'port add bad3 pcap rx_pcap=<missing file>'" "$rc" 1
expect_contains "message" "$(cat "$E2E_TMP/bad3.out")" "port 'bad3'"
expect_contains "message" "$(cat "$E2E_TMP/bad3.out")" "rejected"
ctl port add bad4 vhost-user >"$E2E_TMP/bad4.out" 2>&1
rc=$?
expect_eq "exit status of 'port add bad4 vhost-user' (no path)" "$rc" 1
expect_contains "message" "$(cat "$E2E_TMP/bad4.out")" "requires the argument 'path'"
# A second tap port on an interface that tap1 already uses would silently share it (the kernel
# adds a queue to the same multi-queue tap) and removing either port takes it down for both.
ctl port add bad5 tap "iface=$TAP" >"$E2E_TMP/bad5.out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
  ctl port remove bad5 >/dev/null 2>&1 || fail "cannot remove bad5"
  fail_later "'port add bad5 tap iface=$TAP' succeeded although port tap1 already uses $TAP (two ports shared one kernel interface)"
else
  expect_eq "exit status of 'port add bad5 tap iface=$TAP' (iface taken by tap1)" "$rc" 1
  expect_contains "message" "$(cat "$E2E_TMP/bad5.out")" "$TAP"
fi
ctl --json port list >"$E2E_TMP/list.json" || fail "dvrctl --json port list failed after the errors"
expect_eq "port names" "$(jq_file "$E2E_TMP/list.json" 'ports_list(d)')" "tap1"
proc_alive "$DVRD_PID" || fail "dvrd died"

check "SIGTERM: exit status 0 within 20 s, socket removed, tap interface removed"
[ -S "$DVRD_SOCK" ] || fail "the control socket $DVRD_SOCK does not exist before shutdown"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
[ ! -e "$DVRD_SOCK" ] || fail "the control socket $DVRD_SOCK is still there after shutdown"
log "    ok: socket removed"
! ip link show dev "$TAP" >/dev/null 2>&1 || fail "the tap interface $TAP survived dvrd's shutdown"
log "    ok: $TAP removed"
grep -q "dvrd: stopping" "$DVRD_LOG" || fail "dvrd's log has no 'dvrd: stopping' line"
log "    ok: log says 'dvrd: stopping'"

check "dvrctl without a dvrd: exit 1 and 'cannot connect'"
ctl --timeout 2 version >"$E2E_TMP/nodvrd.out" 2>&1
rc=$?
expect_eq "exit status of 'dvrctl version' with dvrd gone" "$rc" 1
expect_contains "message" "$(cat "$E2E_TMP/nodvrd.out")" "cannot connect"
pass
