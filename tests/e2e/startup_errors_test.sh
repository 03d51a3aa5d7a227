#!/usr/bin/env bash
# dvrd refuses to start, with a "dvrd: ..." line, the right exit status and no process left
# behind, on: a bad EAL argument, a control socket in use by a live dvrd, an invalid --port, an
# unknown option. A stale socket file (left by a killed process) is replaced.
# Usage: startup_errors_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init startup_errors "$@"

# expect_startup_failure WHAT EXPECTED-STATUS NEEDLE PREFIX DVRD-ARGS...
# Runs dvrd in the foreground (60 s at most) and checks its status, its "dvrd: " line and that
# no process with the file prefix PREFIX remains.
expect_startup_failure() {
  local what=$1 want=$2 needle=$3 prefix=$4
  shift 4
  local out="$E2E_TMP/fail-$RANDOM.out"
  log "running: dvrd $*"
  timeout -k 5 60 "$DVRD" "$@" </dev/null >"$out" 2>&1
  local rc=$?
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then fail "$what: dvrd was still running after 60 s"; fi
  expect_eq "$what: exit status" "$rc" "$want"
  grep -q '^dvrd: ' "$out" || fail "$what: no 'dvrd: ...' line in the output: $(head -c 600 "$out")"
  local line
  line=$(grep '^dvrd: ' "$out" | tail -n 1)
  log "    dvrd said: $line"
  expect_contains "$what: message" "$(grep '^dvrd: ' "$out")" "$needle"
  if pgrep -f -- "$prefix" >/dev/null; then
    fail "$what: a process with file prefix $prefix is still running: $(pgrep -af -- "$prefix")"
  fi
  log "    ok: no process left behind"
}

check "a bad EAL argument: exit 1, nothing left"
new_prefix P1 badeal
expect_startup_failure "bad EAL argument" 1 "EAL initialisation failed" "$P1" \
  --dev --socket "$E2E_TMP/badeal.sock" -- -l 0,1 --bogus-eal-flag --file-prefix "$P1" \
  --no-telemetry
[ ! -e "$E2E_TMP/badeal.sock" ] || fail "the failed dvrd left its socket file behind"
log "    ok: no socket file created"

check "an invalid --port definition: exit 2"
new_prefix P2 badport
expect_startup_failure "invalid --port" 2 "unknown argument 'bogus'" "$P2" \
  --dev --socket "$E2E_TMP/badport.sock" --port 'x=tap,bogus=1' -- -l 0,1 --file-prefix "$P2" \
  --no-telemetry
new_prefix P2b badtype
expect_startup_failure "--port with an unknown type" 2 "unknown type 'warp'" "$P2b" \
  --dev --socket "$E2E_TMP/badport.sock" --port 'x=warp' -- -l 0,1 --file-prefix "$P2b" \
  --no-telemetry

check "an unknown dvrd option: exit 2"
new_prefix P3 badopt
expect_startup_failure "unknown option" 2 "unknown option '--frobnicate'" "$P3" \
  --dev --frobnicate --socket "$E2E_TMP/badopt.sock" -- -l 0,1 --file-prefix "$P3" --no-telemetry
new_prefix P3b badnum
expect_startup_failure "bad number" 2 "--mbufs" "$P3b" \
  --dev --mbufs lots --socket "$E2E_TMP/badopt.sock" -- -l 0,1 --file-prefix "$P3b" --no-telemetry

check "a socket in use by a live dvrd: the second one exits 1 ('in use'), the first keeps serving"
start_dvrd
FIRST_PID=$DVRD_PID
new_prefix P4 second
expect_startup_failure "socket in use" 1 "in use" "$P4" \
  --dev --socket "$DVRD_SOCK" -- -l 0,1 --file-prefix "$P4" --no-telemetry
proc_alive "$FIRST_PID" || fail "the first dvrd died"
[ -S "$DVRD_SOCK" ] || fail "the first dvrd's socket file is gone"
out=$(ctl --json version) || fail "the first dvrd no longer answers dvrctl version"
expect_eq "first dvrd still answers (worker_count)" "$(json_eval 'd["worker_count"]' <<<"$out")" 1
stop_dvrd
expect_eq "first dvrd exit status" "$DVRD_STATUS" 0

check "a stale socket file (its process was killed) is replaced and dvrd starts"
STALE="$E2E_TMP/stale/dvrd.sock"
mkdir -p "$E2E_TMP/stale"
# A listening socket whose owner dies with SIGKILL, as a crashed dvrd would leave it.
"$E2E_PY" -c '
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print("ready", flush=True)
time.sleep(120)
' "$STALE" >"$E2E_TMP/stale.out" 2>&1 &
HOLDER=$!
register_pid "$HOLDER"
wait_for 10 grep -q ready "$E2E_TMP/stale.out" || fail "the socket holder did not start"
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null
[ -S "$STALE" ] || fail "no stale socket file at $STALE"
if "$DVRCTL" --socket "$STALE" --timeout 2 version >/dev/null 2>&1; then
  fail "the stale socket still answers"
fi
log "    ok: $STALE is a socket file nobody listens on"
E2E_SOCK=$STALE start_dvrd
out=$(ctl --json version) || fail "dvrd on the replaced socket does not answer"
expect_eq "dvrd on the replaced socket (development_mode)" \
  "$(json_eval 'd["development_mode"]' <<<"$out")" true
stop_dvrd
expect_eq "exit status" "$DVRD_STATUS" 0
[ ! -e "$STALE" ] || fail "the socket file is still there after shutdown"
log "    ok: socket removed at shutdown"

check "the socket's directory is created when missing"
E2E_SOCK="$E2E_TMP/new/dir/dvrd.sock" start_dvrd
[ -S "$E2E_TMP/new/dir/dvrd.sock" ] || fail "no socket at $E2E_TMP/new/dir/dvrd.sock"
log "    ok: socket created in a new directory"
stop_dvrd
expect_eq "exit status" "$DVRD_STATUS" 0

check "a regular file at the --socket path is not a stale socket: dvrd refuses, the file stays"
# A mistyped --socket (e.g. a config file's path) must not cost the user that file.
NOTSOCK="$E2E_TMP/not-a-socket.conf"
printf 'precious contents\n' >"$NOTSOCK"
new_prefix P5 regfile
timeout -k 5 60 "$DVRD" --dev --socket "$NOTSOCK" -- -l 0,1 --file-prefix "$P5" --no-telemetry \
  --log-level=lib.eal:warning </dev/null >"$E2E_TMP/regfile.out" 2>&1 &
REGPID=$!
register_log "$E2E_TMP/regfile.out"
register_pid "$REGPID"
# It either exits by itself (correct) or starts serving on the path (the file is gone by then).
regfile_settled() { ! proc_alive "$REGPID" || [ -S "$NOTSOCK" ]; }
wait_for 30 regfile_settled
if [ -S "$NOTSOCK" ] || [ "$(cat "$NOTSOCK" 2>/dev/null)" != "precious contents" ]; then
  kill_pid "$REGPID"
  fail_later "dvrd --socket $NOTSOCK deleted the regular file there and put its socket in its place (a stale *socket* may be replaced; any other file must be left alone and dvrd should refuse to start)"
else
  wait "$REGPID"
  rc=$?
  expect_eq "exit status with a regular file at the socket path" "$rc" 1
  grep -q '^dvrd: ' "$E2E_TMP/regfile.out" || fail "no 'dvrd: ...' line: $(head -c 600 "$E2E_TMP/regfile.out")"
  log "    dvrd said: $(grep '^dvrd: ' "$E2E_TMP/regfile.out" | tail -n 1)"
  log "    ok: the file is intact"
fi

check "no dvrd of this test is left"
for p in "${E2E_PREFIXES[@]}"; do
  pgrep -f -- "$p" >/dev/null && fail "a process with prefix $p is still running"
done
log "    ok: none"
pass
