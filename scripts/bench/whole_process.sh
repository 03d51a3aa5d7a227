#!/usr/bin/env bash
# Whole-process forwarding benchmark: dvrd side by side with DPDK's l3fwd sample.
#
# Both get one worker core (CPU $WORKER_CPU), the same source and the same sink:
#   source  net_pcap, rx_pcap=FILE, infinite_rx=1   (replays the pcap forever)
#   sink    net_null, no-rx=1                       (frees what it is given, generates nothing)
# FILE holds 64-byte UDP frames 198.18.0.10 -> 198.18.1.10 (gen_pcap.py): 198.18.1.0/24 is
# one of l3fwd's default LPM routes to port 1 (the sink), and dvrd routes it from network n1
# (198.18.0.0/24, the source's VM port) to network n2 (198.18.1.0/24, the sink's VM port).
#
# A third system, "dvrd-acl", is the same dvrd and tenant with a network ACL of ACL_RULES rules
# (default 1,000: half ingress, half egress; generated, see tests/bench/topology.h) attached to
# n1 and n2, so every packet is classified twice (n1's egress rules, then n2's ingress rules);
# the rule that lets the traffic through sits at 90 % of each direction's list. The ACL is sent
# in one request by tests/bench/bench_acl_upsert and attached with `dvrctl network set-acl`; the
# run also checks that the two allow rules counted packets at the sink's rate and that no other
# rule or default counted any (`dvrctl --json acl show`).
#
# The systems run alternately (dvrd, dvrd-acl, l3fwd, dvrd, dvrd-acl, l3fwd, ...), RUNS times
# each; per-pair ratios pair run i of each. A run waits
# until the sink transmits, warms up WARMUP_SECONDS, then samples the counters twice,
# SECONDS_PER_RUN apart: rate = Δ(sink tx packets) / Δt. dvrd is sampled with
# `dvrctl --json stats`, l3fwd over DPDK telemetry (/ethdev/stats). Every run also checks that
# the sink transmitted what the source received (within 1 %) and that nothing was dropped.
# Cycles per packet ("everything included") = TSC Hz / median pps.
#
# Usage (as root):  scripts/bench/whole_process.sh
# Environment:
#   RUNS=5 SECONDS_PER_RUN=5 WARMUP_SECONDS=2   runs per system, window and warm-up (seconds)
#   MAIN_CPU=0 WORKER_CPU=1                     dvrd's main lcore / both systems' worker
#   MEMORY=auto|huge|nohuge                     auto (default): 2 MiB hugepages if they can be
#                                               had, else --no-huge -m 512 (both systems alike)
#   HUGEPAGES=512                               pages to reserve when none are reserved (the
#                                               previous value is restored at exit)
#   DVR_BENCH_DIR=/var/tmp/dvrd-bench           where l3fwd is built (outside the repository)
#   DVRD_BUILD=<repo>/build                     dvrd's meson build directory (not rebuilt here;
#                                               it must hold tests/bench/bench_acl_upsert too)
#   ACL_RULES=1000                              rules of dvrd-acl's network ACL; 0: no dvrd-acl
#   PERF_DIR=                                   set: `perf record` every system's last run into
#                                               PERF_DIR/SYSTEM.data and write its profile
#                                               (perf report by DSO and symbol) to SYSTEM.txt
#   KEEP_TMP=1                                  keep the temporary directory (logs, samples)
# Exit status: 0 when every run was clean, 1 when a run had a problem or could not be done.
#
# dvrd runs with its production defaults (rings of 1024, 32767 mbufs) and --idle-backoff off;
# --dev is not used because it forces --no-huge: the EAL options it would add (--no-pci, and in
# no-huge mode --no-huge -m 512) are given explicitly, the same for l3fwd.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3

RUNS=${RUNS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
WARMUP_SECONDS=${WARMUP_SECONDS:-2}
MAIN_CPU=${MAIN_CPU:-0}
WORKER_CPU=${WORKER_CPU:-1}
MEMORY=${MEMORY:-auto}
HUGEPAGES=${HUGEPAGES:-512}
DVRD_BUILD=${DVRD_BUILD:-$REPO/build}
DVRD=$DVRD_BUILD/control/dvrd
DVRCTL=$DVRD_BUILD/control/dvrctl/dvrctl
ACL_UPSERT=$DVRD_BUILD/tests/bench/bench_acl_upsert
ACL_RULES=${ACL_RULES:-1000}
START_TIMEOUT=30 # seconds: a process must be forwarding by then
STOP_TIMEOUT=10  # seconds: SIGTERM, then SIGKILL

log() { echo "[whole_process] $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $EUID -eq 0 ]] || die "run as root (DPDK, hugepages)"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $SECONDS_PER_RUN =~ ^[0-9]+([.][0-9]+)?$ && $WARMUP_SECONDS =~ ^[0-9]+([.][0-9]+)?$ ]] ||
  die "SECONDS_PER_RUN and WARMUP_SECONDS must be numbers"
[[ $MEMORY == auto || $MEMORY == huge || $MEMORY == nohuge ]] || die "MEMORY is auto, huge or nohuge"
[[ -x $DVRD && -x $DVRCTL ]] || die "$DVRD or $DVRCTL missing: build first (ninja -C $DVRD_BUILD)"
[[ $ACL_RULES =~ ^[0-9]+$ ]] || die "ACL_RULES must be a number"
if ((ACL_RULES > 0)); then
  [[ -x $ACL_UPSERT ]] || die "$ACL_UPSERT missing: ninja -C $DVRD_BUILD tests/bench/bench_acl_upsert (or ACL_RULES=0)"
fi
if ! $PY -c 'import scapy' 2>/dev/null; then die "$PY with scapy is needed (gen_pcap.py)"; fi
(( WORKER_CPU != MAIN_CPU )) || die "MAIN_CPU and WORKER_CPU must differ"

# ------------------------------------------------------------------------ state and cleanup --
TMP=$(mktemp -d /tmp/dvrd-bench.XXXXXX)
PIDS=()            # every process we started and may still have to stop
PREFIXES=()        # DPDK --file-prefix values: their /var/run/dpdk directories are ours
HUGE_RESTORE=""    # previous vm.nr_hugepages, when we changed it
HUGE_MOUNT=""      # a hugetlbfs we mounted

stop_pid() { # PID: SIGTERM, bounded wait, SIGKILL
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop on SIGTERM within ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? pid p
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  for p in "${PREFIXES[@]}"; do rm -rf "/var/run/dpdk/$p"; done
  if [[ -n $HUGE_MOUNT ]]; then umount "$HUGE_MOUNT" 2>/dev/null || log "could not unmount $HUGE_MOUNT"; fi
  if [[ -n $HUGE_RESTORE ]]; then
    echo "$HUGE_RESTORE" >/proc/sys/vm/nr_hugepages 2>/dev/null || log "could not restore vm.nr_hugepages=$HUGE_RESTORE"
  fi
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() { # PID: drop it from PIDS once it has been stopped
  local keep=() p
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

in_bg() { # CMD...: runs CMD in the background and waits for it, so that a signal to this
  # script interrupts the wait at once (bash defers traps until a foreground child ends)
  local p rc=0
  "$@" &
  p=$!
  PIDS+=("$p")
  wait "$p" || rc=$?
  forget_pid "$p"
  return "$rc"
}

# -------------------------------------------------------------------------------- machine --
echo "$(lscpu | grep -m1 '^Model name:' | sed 's/  */ /g')  ($(nproc) CPUs; $(uname -r))"

# --------------------------------------------------------------------------------- memory --
# Hugepages if possible: a hugetlbfs mount (ours under $TMP if the system has none) and free
# 2 MiB pages (reserved by us only when none are reserved at all).
setup_hugepages() {
  local have free mnt
  grep -qw hugetlbfs /proc/filesystems || { log "no hugetlbfs in this kernel"; return 1; }
  have=$(cat /proc/sys/vm/nr_hugepages)
  if ((have == 0)); then
    if ! echo "$HUGEPAGES" >/proc/sys/vm/nr_hugepages 2>/dev/null; then
      log "could not reserve $HUGEPAGES hugepages"; return 1
    fi
    HUGE_RESTORE=0
    have=$(cat /proc/sys/vm/nr_hugepages)
    log "reserved $have 2 MiB hugepages (vm.nr_hugepages was 0; restored at exit)"
  fi
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
  if ((free < 256)); then log "only $free free hugepages (want 256 = 512 MiB)"; return 1; fi
  mnt=$(awk '$3 == "hugetlbfs" && $4 !~ /pagesize=1G/ {print $2; exit}' /proc/mounts)
  if [[ -z $mnt ]]; then
    mnt=$TMP/huge
    mkdir -p "$mnt"
    mount -t hugetlbfs -o pagesize=2M nodev "$mnt" 2>/dev/null || { log "could not mount hugetlbfs"; return 1; }
    HUGE_MOUNT=$mnt
  fi
  EAL_MEM=(--huge-dir "$mnt" --huge-unlink)
  MEM_DESC="2 MiB hugepages ($free free, hugetlbfs at $mnt, --huge-unlink)"
}
undo_hugepages() {
  if [[ -n $HUGE_MOUNT ]]; then umount "$HUGE_MOUNT" 2>/dev/null || true; HUGE_MOUNT=""; fi
  if [[ -n $HUGE_RESTORE ]]; then echo "$HUGE_RESTORE" >/proc/sys/vm/nr_hugepages || true; HUGE_RESTORE=""; fi
}
EAL_MEM=(--no-huge -m 512)
MEM_DESC="--no-huge -m 512 (anonymous memory)"
if [[ $MEMORY != nohuge ]]; then
  if ! setup_hugepages; then
    undo_hugepages
    [[ $MEMORY == huge ]] && die "MEMORY=huge but hugepages are not available"
    EAL_MEM=(--no-huge -m 512)
    MEM_DESC="--no-huge -m 512 (anonymous memory; hugepages unavailable)"
  fi
fi

# ----------------------------------------------------------------------------- preparation --
L3FWD=$("$HERE/build_l3fwd.sh") || die "building l3fwd failed"
PCAP=$TMP/udp64.pcap
SRC_MAC=02:00:00:00:00:10 GW1_MAC=02:00:00:00:00:01 GW2_MAC=02:00:00:00:01:01
DST_MAC=02:00:00:00:01:10 SRC_IP=198.18.0.10 DST_IP=198.18.1.10
$PY "$HERE/gen_pcap.py" "$PCAP" --count 32 --src-mac $SRC_MAC --dst-mac $GW1_MAC \
  --src-ip $SRC_IP --dst-ip $DST_IP || die "gen_pcap.py failed"
RESULTS=$TMP/results.jsonl
: >"$RESULTS"

echo "memory: $MEM_DESC; worker CPU $WORKER_CPU; $RUNS runs each, alternating, window ${SECONDS_PER_RUN}s after ${WARMUP_SECONDS}s warm-up"
((ACL_RULES > 0)) && echo "dvrd-acl: dvrd with a $ACL_RULES-rule network ACL on n1 and n2 ($((ACL_RULES / 2)) egress rules, then $((ACL_RULES / 2)) ingress rules per packet)"
echo "traffic: 64-byte UDP $SRC_IP -> $DST_IP (32 flows) from net_pcap (infinite_rx) to net_null (no-rx)"
echo "dvrd:  $DVRD (git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo '+local changes'), $(meson introspect "$DVRD_BUILD" --buildoptions 2>/dev/null | $PY -c 'import json,sys; print("buildtype "+[o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null || echo 'buildtype ?'))"
echo "l3fwd: $L3FWD (DPDK $(pkg-config --modversion libdpdk) sample, make -O3, --lookup=lpm --parse-ptype)"

# --------------------------------------------------------------------------------- one run --
# profile SYSTEM N PID: with PERF_DIR set, on the last run, samples PID for the warm-up and the
# measurement (in the background; profile_done waits for it and writes the report).
PERF_PID=""
profile() {
  [[ -n ${PERF_DIR:-} && $2 -eq $RUNS ]] || return 0
  mkdir -p "$PERF_DIR"
  perf record -F 1999 -p "$3" -o "$PERF_DIR/$1.data" -- sleep $((WARMUP_SECONDS + SECONDS_PER_RUN)) \
    >"$PERF_DIR/$1.record.log" 2>&1 &
  PERF_PID=$!
}
profile_done() { # SYSTEM
  [[ -n $PERF_PID ]] || return 0
  wait "$PERF_PID" 2>/dev/null
  PERF_PID=""
  perf report -i "$PERF_DIR/$1.data" --stdio --no-children --sort dso,sym --percent-limit 1 \
    >"$PERF_DIR/$1.txt" 2>/dev/null || log "perf report for $1 failed"
}

run_dvrd() { # N [SYSTEM]: SYSTEM dvrd (default) or dvrd-acl (the same with the network ACL)
  local n=$1 sys=${2:-dvrd}
  local prefix="dvrbench-$$-$sys-$n" sock="$TMP/$sys-$n.sock" logf="$TMP/$sys-$n.log" pid i
  local C=("$DVRCTL" --socket "$sock" --timeout 5) acl_args=() line
  PREFIXES+=("$prefix")
  "$DVRD" --socket "$sock" --idle-backoff off \
    --port "src=pcap,rx_pcap=$PCAP,infinite_rx=1" --port "dst=null,no-rx=1" \
    -- --lcores "0@$MAIN_CPU,1@$WORKER_CPU" --file-prefix "$prefix" --no-pci "${EAL_MEM[@]}" \
    --log-level=lib.eal:warning </dev/null >"$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for ((i = 0; i < START_TIMEOUT * 5; i++)); do
    "${C[@]}" version >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$logf" >&2; log "dvrd exited during startup"; return 1; }
    sleep 0.2
  done
  "${C[@]}" version >/dev/null 2>&1 || { tail -20 "$logf" >&2; log "dvrd did not answer within ${START_TIMEOUT}s"; return 1; }
  # The tenant: r routes n1 (198.18.0.0/24, the source's VM port) to n2 (198.18.1.0/24, the
  # sink's VM port, holding the destination address). Port security on (the default).
  {
    "${C[@]}" router add r &&
      "${C[@]}" network add n1 --segmentation-id 101 &&
      "${C[@]}" network add n2 --segmentation-id 102 &&
      "${C[@]}" subnet add s1 --network n1 --cidr 198.18.0.0/24 --gateway 198.18.0.1 &&
      "${C[@]}" subnet add s2 --network n2 --cidr 198.18.1.0/24 --gateway 198.18.1.1 &&
      "${C[@]}" interface add i1 --router r --subnet s1 --mac $GW1_MAC &&
      "${C[@]}" interface add i2 --router r --subnet s2 --mac $GW2_MAC &&
      "${C[@]}" vm-port add vm-src --network n1 --mac $SRC_MAC --ip $SRC_IP --port src &&
      "${C[@]}" vm-port add vm-dst --network n2 --mac $DST_MAC --ip $DST_IP --port dst
  } >>"$logf" 2>&1 || { tail -20 "$logf" >&2; log "configuring dvrd failed"; return 1; }
  if [[ $sys == dvrd-acl ]]; then
    # The ACL in one request (its rules let UDP 198.18.0.0/24 -> 198.18.1.0/24 port 9 through),
    # then attached to both networks: n1's egress and n2's ingress rules see every packet.
    line=$("$ACL_UPSERT" --socket "$sock" --acl bench-acl --rules "$ACL_RULES" \
      --src 198.18.0.0/24 --dst 198.18.1.0/24 --protocol udp --dst-port 9 2>>"$logf") &&
      "${C[@]}" network set-acl n1 bench-acl >>"$logf" 2>&1 &&
      "${C[@]}" network set-acl n2 bench-acl >>"$logf" 2>&1 ||
      { tail -20 "$logf" >&2; log "configuring the network ACL failed"; return 1; }
    echo "$line" >>"$logf"
    [[ $line =~ allow_ingress=([0-9]+)\ allow_egress=([0-9]+) ]] || { log "bench_acl_upsert said: $line"; return 1; }
    acl_args=(--acl bench-acl --acl-allow "ingress:${BASH_REMATCH[1]},egress:${BASH_REMATCH[2]}")
  fi
  profile "$sys" "$n" "$pid"
  if ! in_bg $PY "$HERE/bench_util.py" measure-dvrd --system "$sys" --run "$n" --dvrctl "$DVRCTL" \
    --socket "$sock" "${acl_args[@]}" --warmup "$WARMUP_SECONDS" --seconds "$SECONDS_PER_RUN" \
    --start-timeout $START_TIMEOUT >"$TMP/$sys-$n.json"; then
    tail -20 "$logf" >&2; log "measuring $sys failed"; return 1
  fi
  "${C[@]}" stats >"$TMP/$sys-$n.stats" 2>&1 || true
  profile_done "$sys"
  stop_pid "$pid"
  forget_pid "$pid"
  cat "$TMP/$sys-$n.json" >>"$RESULTS"
}

run_dvrd-acl() { # N
  run_dvrd "$1" dvrd-acl
}

run_l3fwd() { # N
  local n=$1 prefix="dvrbench-$$-l3fwd-$1" logf="$TMP/l3fwd-$1.log" pid
  PREFIXES+=("$prefix")
  # One lcore (id $WORKER_CPU on CPU $WORKER_CPU): l3fwd gives every lcore a tx queue on every
  # port and net_pcap has one, so the main lcore is the forwarding lcore; EAL's control
  # threads (interrupts, telemetry) run on the other CPUs. Port 0 = net_pcap0, port 1 = net_null0.
  "$L3FWD" --lcores "$WORKER_CPU@$WORKER_CPU" --file-prefix "$prefix" --no-pci "${EAL_MEM[@]}" \
    --log-level=lib.eal:warning \
    --vdev "net_pcap0,rx_pcap=$PCAP,infinite_rx=1" --vdev "net_null0,no-rx=1" \
    -- -p 0x3 -P --lookup=lpm --parse-ptype --config "(0,0,$WORKER_CPU),(1,0,$WORKER_CPU)" \
    </dev/null >"$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  profile l3fwd "$n" "$pid"
  if ! in_bg $PY "$HERE/bench_util.py" measure-l3fwd --run "$n" --telemetry "/var/run/dpdk/$prefix/dpdk_telemetry.v2" \
    --src-port 0 --dst-port 1 --warmup "$WARMUP_SECONDS" --seconds "$SECONDS_PER_RUN" \
    --start-timeout $START_TIMEOUT >"$TMP/l3fwd-$n.json"; then
    tail -20 "$logf" >&2; log "measuring l3fwd failed"; return 1
  fi
  profile_done l3fwd
  stop_pid "$pid"
  forget_pid "$pid"
  grep -q "LPM: Adding route 198.18.1.0 / 24 (1)" "$logf" ||
    log "warning: l3fwd's log does not show its route 198.18.1.0/24 -> port 1"
  cat "$TMP/l3fwd-$n.json" >>"$RESULTS"
}

SYSTEMS=(dvrd)
((ACL_RULES > 0)) && SYSTEMS+=(dvrd-acl)
SYSTEMS+=(l3fwd)
failed=0
for ((r = 1; r <= RUNS; r++)); do
  for sys in "${SYSTEMS[@]}"; do
    log "run $r/$RUNS: $sys"
    if ! "run_$sys" "$r"; then
      failed=1
      for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
      PIDS=()
    fi
  done
done

TSC_FALLBACK=$(awk -F: '/^cpu MHz/ {printf "%.0f", $2 * 1e6; exit}' /proc/cpuinfo)
summary_rc=0
$PY "$HERE/bench_util.py" summarize "$RESULTS" --tsc-hz "${TSC_FALLBACK:-0}" || summary_rc=$?
for sys in dvrd dvrd-acl; do
  last_stats="$TMP/$sys-$RUNS.stats"
  [[ -s $last_stats ]] || continue
  echo
  echo "\`dvrctl stats\` at the end of the last $sys run (cumulative since dvrd started, configuration included):"
  cat "$last_stats"
done
((failed == 0 && summary_rc == 0))
