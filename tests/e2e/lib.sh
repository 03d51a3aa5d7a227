# Shared helpers of the end-to-end tests. Source it from a test script:
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init NAME "$@"        # $1 $2 = dvrd and dvrctl paths (default: build/ in the repo)
#
# Everything a test creates is registered here and removed by the EXIT trap, also on failure:
# processes (killed by pid), network namespaces, interfaces, the temporary directory (which
# holds every control socket, log and data file) and DPDK's runtime directories of the test's
# own --file-prefix values. Nothing in the root namespace is configured; tap interfaces that
# dvrd creates there are moved into the test's namespaces.
#
# Every wait is bounded. Failures print "FAIL: <why>", the tail of the logs, and exit 1.
# A test that cannot run here (not root, a tool missing) exits 77, which meson reports as SKIP.

set -u -o pipefail

E2E_PY=/usr/bin/python3  # the system python (it has json; scapy lives there too)

E2E_NAME=""
E2E_TMP=""
DVRD=""
DVRCTL=""
E2E_PIDS=()     # background processes to stop at exit
E2E_NETNS=()    # namespaces to delete at exit
E2E_LINKS=()    # interfaces (root namespace) to delete at exit if they still exist
E2E_PREFIXES=() # DPDK --file-prefix values whose runtime directories we remove at exit
E2E_LOGS=()     # logs shown when the test fails

# The dvrd instance started by start_dvrd.
DVRD_PID=""
DVRD_SOCK=""
DVRD_LOG=""
DVRD_PREFIX=""
DVRD_STARTS=0

log() { printf '%s\n' "$*"; }
check() { printf -- '--- check: %s\n' "$*"; }

fail() {
  printf 'FAIL: %s\n' "$*"
  exit 1
}

skip() {
  printf 'SKIP: %s\n' "$*"
  exit 77
}

# fail_later WHY: reports a failure but lets the test go on (for a check whose failure leaves
# the state usable, so that one known bug does not hide the checks after it). pass then fails.
E2E_LATE_FAILURES=()
fail_later() {
  printf 'FAIL: %s\n' "$*"
  E2E_LATE_FAILURES+=("$*")
}

pass() {
  if [ ${#E2E_LATE_FAILURES[@]} -gt 0 ]; then
    local f
    for f in "${E2E_LATE_FAILURES[@]}"; do printf 'FAIL: %s\n' "$f"; done
    exit 1
  fi
  printf 'PASS\n'
  exit 0
}

# A random 4-hex-digit suffix; together with $$ it keeps names unique between concurrent runs.
rand4() { printf '%04x' $((RANDOM)); }

e2e_init() {
  E2E_NAME=$1
  shift
  local here repo
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  repo=$(cd "$here/../.." && pwd)
  DVRD=${1:-$repo/build/control/dvrd}
  DVRCTL=${2:-$repo/build/control/dvrctl/dvrctl}
  [ "$(id -u)" -eq 0 ] || skip "the end-to-end tests need root (namespaces, tap devices)"
  [ -x "$DVRD" ] || fail "dvrd binary not found at $DVRD (build first: ninja -C build)"
  [ -x "$DVRCTL" ] || fail "dvrctl binary not found at $DVRCTL (build first: ninja -C build)"
  [ -x "$E2E_PY" ] || skip "$E2E_PY is missing"
  E2E_TMP=$(mktemp -d "/tmp/dvre2e_${E2E_NAME}.XXXXXX") || fail "mktemp failed"
  trap e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "=== e2e $E2E_NAME (dvrd: $DVRD, pid $$, tmp $E2E_TMP)"
}

need_tool() {
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || skip "tool '$t' is not installed"
  done
}

# True while the process exists and is not a zombie (a child that exited but was not reaped
# yet still answers kill -0).
proc_alive() {
  local pid=$1 state
  [ -n "$pid" ] || return 1
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]) .*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != "Z" ] && [ -n "$state" ]
}

# wait_for TIMEOUT_SECONDS COMMAND [ARGS...]: runs COMMAND every 0.2 s until it succeeds.
# Returns 1 if it never did within the timeout.
wait_for() {
  local timeout=$1
  shift
  local deadline=$((SECONDS + timeout))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# wait_exit PID TIMEOUT: waits until the process is gone; prints nothing. 1 on timeout.
wait_exit() {
  local pid=$1 timeout=$2
  local deadline=$((SECONDS + timeout))
  while proc_alive "$pid"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
  return 0
}

# Stops a process we started: SIGTERM, then SIGKILL after 10 s. Reaps it if it is our child.
kill_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if proc_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    if ! wait_exit "$pid" 10; then
      log "cleanup: pid $pid ignored SIGTERM for 10 s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null
      wait_exit "$pid" 5
    fi
  fi
  wait "$pid" 2>/dev/null
  return 0
}

register_pid() { E2E_PIDS+=("$1"); }
register_netns() { E2E_NETNS+=("$1"); }
register_link() { E2E_LINKS+=("$1"); }
register_log() { E2E_LOGS+=("$1"); }

e2e_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    local f
    for f in "${E2E_LOGS[@]}"; do
      [ -s "$f" ] || continue
      log "--- last lines of $(basename "$f"):"
      tail -n 25 "$f" | sed 's/^/    /'
    done
  fi
  local pid ns link prefix
  for pid in "${E2E_PIDS[@]}"; do kill_pid "$pid"; done
  for ns in "${E2E_NETNS[@]}"; do
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for link in "${E2E_LINKS[@]}"; do
    ip link show dev "$link" >/dev/null 2>&1 && ip link del dev "$link" 2>/dev/null
  done
  for prefix in "${E2E_PREFIXES[@]}"; do
    [ -n "$prefix" ] && rm -rf "/var/run/dpdk/$prefix"
  done
  [ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
  exit $rc
}

# new_prefix VAR TAG: sets VAR to a unique DPDK --file-prefix, registered for cleanup.
# (These helpers set a variable instead of printing: a $(...) subshell would lose the
# registration.)
new_prefix() {
  local p="dvre2e_${E2E_NAME}_${2}_$$_$(rand4)"
  E2E_PREFIXES+=("$p")
  printf -v "$1" '%s' "$p"
}

# new_netns VAR TAG: creates a namespace (lo up, IPv6 off so that no background chatter runs
# through dvrd), registers it for deletion and sets VAR to its name.
new_netns() {
  local ns="dvre2e-${E2E_NAME}-${2}-$$-$(rand4)"
  ip netns add "$ns" || fail "ip netns add $ns failed"
  register_netns "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null || fail "cannot disable IPv6 in $ns"
  ip -n "$ns" link set lo up || fail "cannot set lo up in $ns"
  printf -v "$1" '%s' "$ns"
}

# dvrctl against the current dvrd.
ctl() { "$DVRCTL" --socket "$DVRD_SOCK" "$@"; }

# start_dvrd [DVRD-OPTIONS...] [-- EXTRA-EAL-ARGS...]
# Starts dvrd --dev on the socket $E2E_SOCK (default $E2E_TMP/dvrd.sock) and a fresh file
# prefix, with "-l 0,1" (one worker) unless the extra EAL arguments name the lcores, and waits
# (30 s at most, E2E_START_TIMEOUT) until `dvrctl version` answers. Sets DVRD_PID, DVRD_SOCK,
# DVRD_LOG and DVRD_PREFIX.
start_dvrd() {
  local opts=() eal=() seen_sep=0 a
  for a in "$@"; do
    if [ $seen_sep -eq 0 ] && [ "$a" = "--" ]; then
      seen_sep=1
      continue
    fi
    if [ $seen_sep -eq 0 ]; then opts+=("$a"); else eal+=("$a"); fi
  done
  local has_lcores=0
  for a in "${eal[@]}"; do
    case $a in -l | --lcores | -l* | --lcores=*) has_lcores=1 ;; esac
  done
  [ $has_lcores -eq 1 ] || eal=(-l 0,1 "${eal[@]}")
  new_prefix DVRD_PREFIX dvrd
  DVRD_STARTS=$((DVRD_STARTS + 1))
  DVRD_SOCK=${E2E_SOCK:-$E2E_TMP/dvrd.sock}
  DVRD_LOG="$E2E_TMP/dvrd-$DVRD_STARTS.log"
  register_log "$DVRD_LOG"
  log "starting: dvrd --dev --socket $DVRD_SOCK ${opts[*]} -- ${eal[*]} --file-prefix $DVRD_PREFIX ..."
  "$DVRD" --dev --socket "$DVRD_SOCK" "${opts[@]}" -- "${eal[@]}" --file-prefix "$DVRD_PREFIX" \
    --log-level=lib.eal:warning --no-telemetry </dev/null >"$DVRD_LOG" 2>&1 &
  DVRD_PID=$!
  register_pid "$DVRD_PID"
  local deadline=$((SECONDS + ${E2E_START_TIMEOUT:-30}))
  while ! ctl --timeout 2 version >/dev/null 2>&1; do
    proc_alive "$DVRD_PID" || {
      wait "$DVRD_PID"
      fail "dvrd exited during startup with status $? (log: $(tr '\n' ' ' <"$DVRD_LOG" | cut -c1-600))"
    }
    [ $SECONDS -ge $deadline ] && fail "dvrd did not answer 'dvrctl version' within ${E2E_START_TIMEOUT:-30} s"
    sleep 0.2
  done
  log "dvrd is up (pid $DVRD_PID)"
}

# stop_dvrd: SIGTERM, waits 20 s at most, sets DVRD_STATUS to the exit status.
stop_dvrd() {
  DVRD_STATUS=""
  kill -TERM "$DVRD_PID" 2>/dev/null || fail "dvrd (pid $DVRD_PID) is not running at shutdown"
  wait_exit "$DVRD_PID" 20 || fail "dvrd did not exit within 20 s of SIGTERM"
  wait "$DVRD_PID"
  DVRD_STATUS=$?
}

# json_eval EXPRESSION < JSON: prints the value of a Python expression over the document `d`.
# Helpers: port_names(d) (sorted list), pstat(d, NAME, FIELD) (int), pdrop(d, NAME, REASON)
# (int), worker(d, N), ports_list(d) (sorted names from a port list), rstat(d, ROUTER) (routed
# packets), rdrop(d, ROUTER, REASON) (int), wsum(d, FIELD) (a worker counter summed over the
# workers), stage_packets(d, STAGE) (summed over the workers).
json_eval() {
  "$E2E_PY" -c '
import json, sys
d = json.load(sys.stdin)
def port_stats(d, name):
    for p in d.get("ports", []):
        if p.get("name") == name:
            return p
    raise SystemExit("no port %r in the stats" % name)
def port_names(d):
    return sorted(p["name"] for p in d.get("ports", []))
def ports_list(d):
    return sorted(p["spec"]["name"] for p in d.get("ports", []))
def port_info(d, name):
    for p in d.get("ports", []):
        if p["spec"]["name"] == name:
            return p
    raise SystemExit("no port %r in the port list" % name)
def pstat(d, name, field):
    return int(port_stats(d, name).get(field, 0))
def pdrop(d, name, reason):
    for r in port_stats(d, name).get("drop_reasons", []):
        if r["reason"] == reason:
            return int(r["packets"])
    return 0
def worker(d, n):
    for w in d.get("workers", []):
        if int(w.get("worker", 0)) == n:
            return w
    raise SystemExit("no worker %d in the stats" % n)
def router_stats(d, rid):
    for r in d.get("routers", []):
        if r.get("router_id") == rid:
            return r
    raise SystemExit("no router %r in the stats" % rid)
def rstat(d, rid):
    return int(router_stats(d, rid).get("routed_packets", 0))
def rdrop(d, rid, reason):
    for r in router_stats(d, rid).get("drop_reasons", []):
        if r["reason"] == reason:
            return int(r["packets"])
    return 0
def wsum(d, field):
    return sum(int(w.get(field, 0)) for w in d.get("workers", []))
def stage_packets(d, name):
    return sum(int(s.get("packets", 0)) for w in d.get("workers", [])
               for s in w.get("stages", []) if s.get("name") == name)
v = eval(sys.argv[1])
if isinstance(v, bool):
    print("true" if v else "false")
elif isinstance(v, (list, tuple)):
    print(" ".join(str(x) for x in v))
else:
    print(v)
' "$1"
}

# jq_file FILE EXPRESSION: json_eval over a file.
jq_file() { json_eval "$2" <"$1"; }

# stats_snapshot FILE: writes `dvrctl --json stats` to FILE.
stats_snapshot() {
  ctl --json stats >"$1" 2>"$1.err" || fail "dvrctl --json stats failed: $(cat "$1.err")"
}

# stable_stats FILE: a stats snapshot taken once the port counters stopped moving (two
# snapshots 0.5 s apart agree), so that sums over counters are exact. 15 s at most.
stable_stats() {
  local out=$1 prev="$1.prev" deadline=$((SECONDS + 15))
  stats_snapshot "$prev"
  while :; do
    sleep 0.5
    stats_snapshot "$out"
    if [ "$(jq_file "$out" 'json.dumps(d["ports"], sort_keys=True)')" = \
      "$(jq_file "$prev" 'json.dumps(d["ports"], sort_keys=True)')" ]; then
      return 0
    fi
    [ $SECONDS -ge $deadline ] && fail "the port counters did not settle within 15 s"
    cp "$out" "$prev"
  done
}

# settled_stats FILE: like stable_stats, and also robust to a worker that the (loaded) machine
# did not schedule for a while: the two snapshots must agree on every port counter AND every
# worker must have completed at least two polls between them, so that a poll started after the
# first snapshot found nothing new (a frame queued before it would have moved rx_packets) and
# neither snapshot caught a poll between counting its rx and flushing its tx. 30 s at most.
settled_stats() {
  local out=$1 prev="$1.prev" deadline=$((SECONDS + 30))
  stats_snapshot "$prev"
  while :; do
    sleep 0.5
    stats_snapshot "$out"
    if [ "$(jq_file "$out" 'json.dumps(d["ports"], sort_keys=True)')" = \
      "$(jq_file "$prev" 'json.dumps(d["ports"], sort_keys=True)')" ] &&
      [ "$("$E2E_PY" -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
polls = lambda d: {w["worker"]: int(w["polls"]) for w in d.get("workers", [])}
pa, pb = polls(a), polls(b)
print("true" if pa and all(pa[w] - pb.get(w, pa[w]) >= 2 for w in pa) else "false")
' "$out" "$prev")" = true ]; then
      return 0
    fi
    [ $SECONDS -ge $deadline ] && fail "the port counters did not settle within 30 s"
    cp "$out" "$prev"
  done
}

# expect_eq WHAT ACTUAL EXPECTED / expect_ge WHAT ACTUAL MIN / expect_gt WHAT ACTUAL MIN
expect_eq() {
  [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
  log "    ok: $1 = $2"
}
expect_ge() {
  [ "$2" -ge "$3" ] 2>/dev/null || fail "$1: got '$2', expected >= $3"
  log "    ok: $1 = $2 (>= $3)"
}
expect_gt() {
  [ "$2" -gt "$3" ] 2>/dev/null || fail "$1: got '$2', expected > $3"
  log "    ok: $1 = $2 (> $3)"
}
expect_contains() {  # WHAT TEXT NEEDLE
  case $2 in *"$3"*) log "    ok: $1 mentions '$3'" ;; *) fail "$1: '$2' does not contain '$3'" ;; esac
}

# The drop reasons counted against the port a packet was leaving by (dataplane/worker_context.cc);
# every other reason is counted against the port it arrived on.
TX_SIDE_DROPS='["tx_queue_full","tx_handoff_full"]'
