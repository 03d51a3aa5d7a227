#!/usr/bin/env bash
# dvrd's benchmarks in one command (as root, from anywhere):   bash scripts/bench.sh
#
#   1. builds a release tree (build-bench/, --buildtype=release) with the benchmarks;
#   2. in-process: tests/bench/pipeline_bench, bursts through the real pipeline with no rx I/O,
#      REPS repetitions, median cycles/packet and Mpps per path and parameter set (L2, ARP,
#      routed, routed + network ACL, routed / L2 + stateful security group, VXLAN encap (switched
#      and routed) and decap, north-south NAT: floating IP out and in, default SNAT out and in),
#      the overlay paths' cost next to the local paths of the same run, and the NAT paths' cost
#      next to the routed path of the same run;
#   3. whole-process: scripts/bench/whole_process.sh, dvrd, dvrd with a 1,000-rule network ACL
#      (ACL_RULES) and DPDK's l3fwd (built outside the tree from Debian's dpdk-doc sources)
#      alternately on one worker core, same pcap source and null sink, RUNS runs each, median
#      Mpps and the ratios to l3fwd;
#   4. control plane: tests/bench/control_bench, the time to apply a 1,000-router/10,000-port
#      topology, forwarding loss while it is applied, route inserts into a 1M-route router,
#      network ACL build time (10,000 rules) and loss while one is attached and swapped.
# Prints one table at the end. Numbers are benchmark results, not test assertions: the targets
# and what limits each path are discussed in docs/performance.md.
#
# Environment: REPS=5 (in-process repetitions), RUNS=5 SECONDS_PER_RUN=5 (whole-process),
# BENCH_BUILD=<repo>/build-bench (the release tree), FILTER=regex (in-process benchmarks to run),
# SKIP_WHOLE=1, SKIP_CONTROL=1, ACL_RULES=1000 (whole-process dvrd-acl; 0 leaves it out),
# CONTROL_ONLY=apply,loss,routes,raw,acl (parts of the control benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
REPS=${REPS:-5}
BUILD=${BENCH_BUILD:-$REPO/build-bench}
PY=/usr/bin/python3

[ "$(id -u)" -eq 0 ] || { echo "bench.sh: run as root (DPDK, hugepages)" >&2; exit 1; }
bash scripts/install-deps.sh

echo "==> release build in $BUILD"
if [ -d "$BUILD" ]; then
  meson setup --reconfigure "$BUILD" --buildtype=release >/dev/null
else
  meson setup "$BUILD" --buildtype=release >/dev/null
fi
ninja -C "$BUILD" control/dvrd control/dvrctl/dvrctl tests/bench/pipeline_bench \
  tests/bench/control_bench tests/bench/bench_acl_upsert >/dev/null

TMP=$(mktemp -d /tmp/dvrd-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

echo "==> machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|CPU max MHz|Hypervisor)' || true

echo "==> in-process pipeline benchmark ($REPS repetitions, median)"
args=(--benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true
      --benchmark_format=json)
[ -n "${FILTER:-}" ] && args+=(--benchmark_filter="$FILTER")
"$BUILD/tests/bench/pipeline_bench" "${args[@]}" >"$TMP/inproc.json" 2>"$TMP/inproc.log" || {
  tail -20 "$TMP/inproc.log" >&2
  echo "bench.sh: the in-process benchmark failed" >&2
  exit 1
}

whole_status=0
if [ -z "${SKIP_WHOLE:-}" ]; then
  echo "==> whole-process benchmark, dvrd vs l3fwd"
  DVRD_BUILD=$BUILD bash scripts/bench/whole_process.sh | tee "$TMP/whole.txt" || whole_status=$?
fi

if [ -z "${SKIP_CONTROL:-}" ]; then
  echo "==> control-plane benchmark"
  control_args=()
  [ -n "${CONTROL_ONLY:-}" ] && control_args+=(--only="$CONTROL_ONLY")
  "$BUILD/tests/bench/control_bench" "${control_args[@]}" >"$TMP/control.txt" 2>"$TMP/control.log" || {
    tail -20 "$TMP/control.log" >&2
    echo "bench.sh: the control-plane benchmark failed" >&2
    whole_status=1
  }
fi

echo
echo "==> results"
$PY - "$TMP/inproc.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
rows = [b for b in data["benchmarks"] if b.get("aggregate_name") == "median"]
if not rows:  # REPS=1: Google Benchmark reports no aggregates
    rows = [dict(b, run_name=b.get("run_name", b["name"])) for b in data["benchmarks"]
            if b.get("run_type") != "aggregate"]
print("In-process (TSC cycles per packet, median of %d repetitions; Mpps per core = TSC Hz / cycles)"
      % data["benchmarks"][0].get("repetitions", 0) if data["benchmarks"] else "")
print("| path / parameters | pipeline cycles/pkt | pipeline Mpps | whole iteration cycles/pkt | iteration Mpps |")
print("|---|---|---|---|---|")
for b in rows:
    name = b["run_name"]
    print("| %s | %.1f | %.2f | %.1f | %.2f |" % (
        name, b.get("pipe_cyc", 0), b.get("pipe_Mpps", 0), b.get("iter_cyc", 0), b.get("iter_Mpps", 0)))
# The overlay next to the same traffic staying on this host (same run, same medians). Decapsulated
# frames are switched to a local VM here: their local counterpart is L2.
import re
by_name = {b["run_name"]: b for b in rows}
def local_of(name):
    m = re.match(r"(L2|Routed)VxlanEncap/flows:(\d+)/imix:(\d+)$", name)
    if m and m.group(1) == "L2":
        return "L2/flows:%s/imix:%s" % (m.group(2), m.group(3))
    if m:
        return "Routed/flows:%s/routes:10/routers:1/imix:%s/spread:0" % (m.group(2), m.group(3))
    m = re.match(r"VxlanDecap/flows:(\d+)/routed:\d+$", name)
    return "L2/flows:%s/imix:0" % m.group(1) if m else None
overlay = [(b, by_name.get(local_of(b["run_name"]))) for b in rows if local_of(b["run_name"])]
if overlay:
    print()
    print("Overlay cost (VXLAN, docs/overlay.md): pipeline cycles/pkt of each overlay path and of the"
          " same traffic between local VMs, same run")
    print("| overlay path | cycles/pkt | local path | cycles/pkt | ratio |")
    print("|---|---|---|---|---|")
    for b, local in overlay:
        if local is None:
            print("| %s | %.1f | %s (not run) | - | - |" % (b["run_name"], b.get("pipe_cyc", 0),
                                                      local_of(b["run_name"])))
            continue
        print("| %s | %.1f | %s | %.1f | %.2f |" % (
            b["run_name"], b.get("pipe_cyc", 0), local["run_name"], local.get("pipe_cyc", 0),
            b.get("pipe_cyc", 0) / local["pipe_cyc"] if local.get("pipe_cyc") else 0))
# North-south NAT next to east-west routing of the same flow count (same run, same medians).
def routed_of(name):
    m = re.match(r"FipSnat/flows:(\d+)/imix:(\d+)$", name)
    if m:
        return "Routed/flows:%s/routes:10/routers:1/imix:%s/spread:0" % (m.group(1), m.group(2))
    m = re.match(r"(?:FipDnat|SnatOut|SnatIn)/flows:(\d+)$", name)
    return "Routed/flows:%s/routes:10/routers:1/imix:0/spread:0" % m.group(1) if m else None
nat = [(b, by_name.get(routed_of(b["run_name"]))) for b in rows if routed_of(b["run_name"])]
if nat:
    print()
    print("NAT cost (north-south, floating IP and default SNAT): pipeline cycles/pkt of each NAT path"
          " and of east-west routing with the same flow count, same run; SNAT sessions created while"
          " timed (SnatOut; 0: every flow had its session)")
    print("| NAT path | cycles/pkt | Mpps | routed path | cycles/pkt | ratio | new sessions |")
    print("|---|---|---|---|---|---|---|")
    for b, routed in nat:
        new = "%.0f" % b["snat_new"] if "snat_new" in b else "-"
        if routed is None:
            print("| %s | %.1f | %.2f | %s (not run) | - | - | %s |" % (
                b["run_name"], b.get("pipe_cyc", 0), b.get("pipe_Mpps", 0),
                routed_of(b["run_name"]), new))
            continue
        print("| %s | %.1f | %.2f | %s | %.1f | %.2f | %s |" % (
            b["run_name"], b.get("pipe_cyc", 0), b.get("pipe_Mpps", 0), routed["run_name"],
            routed.get("pipe_cyc", 0),
            b.get("pipe_cyc", 0) / routed["pipe_cyc"] if routed.get("pipe_cyc") else 0, new))
filtered = [b for b in rows if "acl_MiB" in b or "ct_new" in b]
if filtered:
    print()
    print("Filtered paths: ACL classifier memory (DPDK memory of both directions' rte_acl contexts) and"
          " conntrack entries created during the timed loop (0: every packet was on an established"
          " connection)")
    print("| path / parameters | ACL classifiers MiB | new connections while timed |")
    print("|---|---|---|")
    for b in filtered:
        print("| %s | %s | %s |" % (b["run_name"],
              "%.1f" % b["acl_MiB"] if "acl_MiB" in b else "-",
              "%.0f" % b["ct_new"] if "ct_new" in b else "-"))
PY
if [ -f "$TMP/whole.txt" ]; then
  echo
  echo "Whole process (one worker core, pcap infinite_rx source, null no-rx sink):"
  grep -E '^\|' "$TMP/whole.txt" || true
  grep -E '^Per-pair ratio' "$TMP/whole.txt" || true
fi
if [ -s "$TMP/control.txt" ]; then
  echo
  cat "$TMP/control.txt"
fi
exit "$whole_status"
