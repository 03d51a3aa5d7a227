#!/usr/bin/python3
"""Measurement helpers of scripts/bench/whole_process.sh (standard library only).

  bench_util.py measure-dvrd  --dvrctl PATH --socket SOCK [--src NAME] [--dst NAME]
                              [--system NAME] [--acl ID --acl-allow ingress:N,egress:M]
                              --warmup S --seconds S [--start-timeout S]
  bench_util.py measure-l3fwd --telemetry SOCK --src-port N --dst-port N
                              --warmup S --seconds S [--start-timeout S]
  bench_util.py summarize     RESULTS.jsonl

measure-* wait (bounded) until the sink transmits, let the system warm up, take two samples of
the counters SECONDS apart and print one JSON object: the sink's transmit rate (pps) over the
window, the counters' deltas and a list of problems (empty when the run is clean: something was
forwarded, nothing dropped, sink tx = source rx within 1 %). Every sample's time is the middle
of the request that took it (time.monotonic()), so the request's own latency does not bias
the rate.

dvrd is sampled with `dvrctl --json stats` (its own per-port counters; tsc_hz is dvrd's
rte_get_tsc_hz(), and the per-stage cycles come from the same two samples). With --acl, each
sample also reads the network ACL's hit counters (`dvrctl --json acl show ID`): the rules named by
--acl-allow must each have counted packets at the sink's rate (within 1 %), every other rule and both
default actions nothing. --system names the result ("dvrd", "dvrd-acl", ...); summarize compares
every system with l3fwd. l3fwd prints
nothing useful, so it is sampled over DPDK telemetry (/ethdev/stats,N on the process's
dpdk_telemetry.v2 socket).
"""
import argparse
import json
import socket
import statistics
import subprocess
import sys
import time

TOLERANCE = 0.01  # sink tx vs source rx over the window


# ---------------------------------------------------------------------------------- sampling --

def dvrctl_json(dvrctl, sock, *args):
    """`dvrctl --json ARGS` parsed; the time is the middle of the call that succeeded. On a
    loaded machine a call may time out: it is retried twice (a sample is a sample whenever it
    is taken), then the last error is raised with dvrctl's own message."""
    for attempt in range(3):
        t0 = time.monotonic()
        p = subprocess.run([dvrctl, "--socket", sock, "--json", "--timeout", "5", *args],
                           capture_output=True, text=True, timeout=20)
        t1 = time.monotonic()
        if p.returncode == 0:
            return (t0 + t1) / 2, json.loads(p.stdout)
        print(f"bench_util: dvrctl {' '.join(args)} failed (attempt {attempt + 1} of 3): "
              f"{p.stderr.strip()}", file=sys.stderr)
    raise RuntimeError(f"bench_util: dvrctl {' '.join(args)} failed 3 times")


def dvrd_sample(dvrctl, sock):
    return dvrctl_json(dvrctl, sock, "stats")


def acl_hits(dvrctl, sock, acl):
    """(time, {"ingress:N": packets, ..., "ingress:default": packets, "egress:default": packets})"""
    t, c = dvrctl_json(dvrctl, sock, "acl", "show", acl)
    hits = {}
    for r in c.get("rules", []):
        d = "ingress" if r.get("direction") == "DIRECTION_INGRESS" else "egress"
        key = f'{d}:{r.get("rule")}'
        hits[key] = hits.get(key, 0) + num(r, "packets")
    hits["ingress:default"] = num(c, "default_ingress_packets")
    hits["egress:default"] = num(c, "default_egress_packets")
    return t, hits


def dvrd_port(stats, name):
    for p in stats.get("ports", []):
        if p.get("name") == name:
            return p
    raise KeyError(f"dvrd has no port {name!r}")


def num(d, key):
    return int(d.get(key, 0) or 0)


class Telemetry:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(5)
        self.s.connect(path)
        info = json.loads(self.s.recv(16384).decode())
        self.max_len = int(info.get("max_output_len", 16384))

    def query(self, cmd):
        self.s.send(cmd.encode())
        reply = json.loads(self.s.recv(self.max_len + 1024).decode())
        return reply[cmd.split(",")[0]]

    def ethdev_stats(self, port):
        t0 = time.monotonic()
        st = self.query(f"/ethdev/stats,{port}")
        t1 = time.monotonic()
        if st is None:
            raise KeyError(f"telemetry: no ethdev port {port}")
        return (t0 + t1) / 2, st


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    last_err = None
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except Exception as e:  # not up yet
            last_err = e
        time.sleep(0.2)
    raise SystemExit(f"bench_util: timed out after {timeout:g} s waiting for {what}"
                     + (f" (last error: {last_err})" if last_err else ""))


def check_flow(problems, src_rx, dst_tx):
    if dst_tx <= 0:
        problems.append("sink transmitted nothing in the window")
    elif abs(dst_tx - src_rx) > TOLERANCE * max(src_rx, 1):
        problems.append(f"sink tx {dst_tx} != source rx {src_rx} (more than {TOLERANCE:.0%} apart)")


def measure_dvrd(a):
    wait_until(lambda: num(dvrd_port(dvrd_sample(a.dvrctl, a.socket)[1], a.dst), "tx_packets") > 0,
               a.start_timeout, f"dvrd to transmit on {a.dst}")
    time.sleep(a.warmup)
    t1, s1 = dvrd_sample(a.dvrctl, a.socket)
    ta1, h1 = acl_hits(a.dvrctl, a.socket, a.acl) if a.acl else (0, {})
    time.sleep(a.seconds)
    t2, s2 = dvrd_sample(a.dvrctl, a.socket)
    ta2, h2 = acl_hits(a.dvrctl, a.socket, a.acl) if a.acl else (0, {})
    dt = t2 - t1

    def d_port(name, key):
        return num(dvrd_port(s2, name), key) - num(dvrd_port(s1, name), key)

    src_rx, dst_tx = d_port(a.src, "rx_packets"), d_port(a.dst, "tx_packets")
    drops = sum(d_port(p["name"], "drops") for p in s2["ports"])
    hw = {k: d_port(a.src, k) + d_port(a.dst, k)
          for k in ("hw_rx_missed", "hw_rx_errors", "hw_tx_errors", "hw_rx_nombuf")}
    src_tx = d_port(a.src, "tx_packets")  # ICMP errors would go back out of src

    def router_drops(s):
        return sum(num(r, "packets") for rt in s.get("routers", []) for r in rt.get("drop_reasons", []))

    def routed(s):
        return sum(num(rt, "routed_packets") for rt in s.get("routers", []))

    problems = []
    check_flow(problems, src_rx, dst_tx)
    if drops:
        reasons = {}
        for p2 in s2["ports"]:
            p1 = dvrd_port(s1, p2["name"])
            before = {r["reason"]: num(r, "packets") for r in p1.get("drop_reasons", [])}
            for r in p2.get("drop_reasons", []):
                n = num(r, "packets") - before.get(r["reason"], 0)
                if n:
                    reasons[f'{p2["name"]}:{r["reason"]}'] = n
        problems.append(f"dvrd dropped {drops} packets in the window: {reasons}")
    if router_drops(s2) - router_drops(s1):
        problems.append(f"router drops in the window: {router_drops(s2) - router_drops(s1)}")
    if src_tx:
        problems.append(f"{src_tx} packets went back out of {a.src}")
    for k, v in hw.items():
        if v:
            problems.append(f"{k} grew by {v}")
    d_routed = routed(s2) - routed(s1)
    acl = {}
    if a.acl:
        allow = set(a.acl_allow.split(",")) if a.acl_allow else set()
        for key in sorted(set(h1) | set(h2)):
            d = h2.get(key, 0) - h1.get(key, 0)
            if key in allow:
                # Its own samples are a few ms off the port samples: compare rates.
                acl[key] = d
                acl_rate, sink_rate = d / (ta2 - ta1), dst_tx / dt
                if abs(acl_rate - sink_rate) > TOLERANCE * max(sink_rate, 1):
                    problems.append(f"ACL rule {key} counted {acl_rate:.0f} packets/s, "
                                    f"the sink sent {sink_rate:.0f} packets/s")
            elif d:
                problems.append(f"ACL rule {key} counted {d} packets (expected none)")
        for key in allow - set(h2):
            problems.append(f"the ACL has no rule {key}")

    # The worker (there is exactly one): per-stage and whole-worker cycles per packet.
    workers2 = s2.get("workers", [])
    stages, busy_cpp, wall_busy = {}, None, None
    if len(workers2) == 1:
        w1, w2 = s1["workers"][0], workers2[0]
        st1 = {x["name"]: x for x in w1.get("stages", [])}
        for x in w2.get("stages", []):
            y = st1.get(x["name"], {})
            dp, dc = num(x, "packets") - num(y, "packets"), num(x, "cycles") - num(y, "cycles")
            stages[x["name"]] = {"packets": dp, "cycles": dc}
        d_busy = num(w2, "busy_cycles") - num(w1, "busy_cycles")
        d_idle = num(w2, "idle_cycles") - num(w1, "idle_cycles")
        busy_cpp = d_busy / src_rx if src_rx else None
        wall_busy = d_busy / (d_busy + d_idle) if d_busy + d_idle else None
    else:
        problems.append(f"expected one dvrd worker, found {len(workers2)}")

    print(json.dumps({
        "system": a.system, "run": a.run, "pps": dst_tx / dt, "acl_hits": acl, "dt": dt, "src_rx": src_rx, "dst_tx": dst_tx,
        "routed": d_routed, "drops": drops, "tsc_hz": num(s2, "tsc_hz"),
        "worker_busy_cycles_per_pkt": busy_cpp, "worker_busy_fraction": wall_busy,
        "stages": stages, "problems": problems}))


def measure_l3fwd(a):
    wait_until(lambda: Telemetry(a.telemetry) is not None, a.start_timeout,
               f"l3fwd's telemetry socket {a.telemetry}")
    tel = Telemetry(a.telemetry)
    wait_until(lambda: tel.ethdev_stats(a.dst_port)[1]["opackets"] > 0, a.start_timeout,
               f"l3fwd to transmit on port {a.dst_port}")
    time.sleep(a.warmup)
    t1, d1 = tel.ethdev_stats(a.dst_port)
    _, r1 = tel.ethdev_stats(a.src_port)
    time.sleep(a.seconds)
    t2, d2 = tel.ethdev_stats(a.dst_port)
    _, r2 = tel.ethdev_stats(a.src_port)
    dt = t2 - t1
    dst_tx = d2["opackets"] - d1["opackets"]
    src_rx = r2["ipackets"] - r1["ipackets"]
    problems = []
    # l3fwd frees what its route table does not send to an enabled port without counting it:
    # sink tx = source rx is the proof that the destination is routed to the sink.
    check_flow(problems, src_rx, dst_tx)
    back = r2["opackets"] - r1["opackets"]
    if back:
        problems.append(f"{back} packets were routed back out of port {a.src_port}")
    for k in ("imissed", "ierrors", "oerrors", "rx_nombuf"):
        v = (r2[k] - r1[k]) + (d2[k] - d1[k])
        if v:
            problems.append(f"{k} grew by {v}")
    print(json.dumps({"system": "l3fwd", "run": a.run, "pps": dst_tx / dt, "dt": dt, "src_rx": src_rx,
                      "dst_tx": dst_tx, "problems": problems}))


# --------------------------------------------------------------------------------- summarize --

def summarize(a):
    runs = [json.loads(line) for line in open(a.results) if line.strip()]
    tsc = next((r["tsc_hz"] for r in runs if r.get("tsc_hz")), None) or a.tsc_hz
    systems = list(dict.fromkeys(r["system"] for r in runs))  # in the order they first ran
    by = {s: [r for r in runs if r["system"] == s] for s in systems}
    dvrds = [s for s in systems if s != "l3fwd"]

    print("\nRuns, in the order they ran (Mpps = sink tx over the window):")
    print(f'  {"#":>2}  {"system":<8} {"Mpps":>8} {"window s":>9} {"src rx":>12} {"sink tx":>12}  check')
    for i, r in enumerate(runs, 1):
        check = "ok" if not r["problems"] else "PROBLEM: " + "; ".join(r["problems"])
        if not r["problems"] and r.get("acl_hits"):
            check += " (ACL allow rules: " + ", ".join(f"{k} {v}" for k, v in r["acl_hits"].items()) + ")"
        print(f'  {i:>2}  {r["system"]:<8} {r["pps"] / 1e6:>8.3f} {r["dt"]:>9.3f} '
              f'{r["src_rx"]:>12} {r["dst_tx"]:>12}  {check}')

    med = {s: statistics.median(r["pps"] for r in v) for s, v in by.items() if v}
    print(f"\nCycles per packet = TSC Hz / median pps, TSC = {tsc / 1e9:.3f} GHz "
          f"(dvrd's rte_get_tsc_hz() from `dvrctl --json stats`; one worker core each)\n")
    hdr = (f'| {"system":<8} | {"median Mpps":>11} | {"min":>7} | {"max":>7} | {"cycles/packet":>13} '
           f'| {"ratio to l3fwd":>14} |')
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    for s in systems:
        pps = [r["pps"] for r in by[s]]
        ratio = med[s] / med["l3fwd"] if "l3fwd" in med and med["l3fwd"] else float("nan")
        print(f"| {s:<8} | {med[s] / 1e6:>11.3f} | {min(pps) / 1e6:>7.3f} | {max(pps) / 1e6:>7.3f} | "
              f"{tsc / med[s]:>13.1f} | {ratio:>14.3f} |")
    # Run i of each system ran back to back: per-pair ratios cancel slow drifts of the machine.
    pairs_to = [(s, "l3fwd") for s in dvrds if "l3fwd" in by]
    if "dvrd" in by:
        pairs_to += [(s, "dvrd") for s in dvrds if s != "dvrd"]
    if pairs_to:
        print()
    for s, ref in pairs_to:
        # Pairs by run number (a failed run leaves its partners unpaired, not shifted).
        refs = {r.get("run"): r for r in by[ref]}
        pairs = [x["pps"] / refs[x.get("run")]["pps"] for x in by[s]
                 if x.get("run") in refs and refs[x.get("run")]["pps"]]
        if pairs:
            print(f"Per-pair ratio {s}/{ref} (run i of each): median {statistics.median(pairs):.3f}, "
                  f"min {min(pairs):.3f}, max {max(pairs):.3f} ({len(pairs)} pairs)")

    # dvrd's own accounting over the same windows: median per stage of Δcycles/Δpackets.
    for s in dvrds:
        dv = [r for r in by[s] if r.get("stages")]
        if not dv:
            continue
        print(f"\n{s} per-stage cycles/packet over the measurement windows (median of the runs;"
              " dvrd's STAGE counters, Δcycles/Δpackets of the stage; 'per rx pkt' divides by"
              " every received packet):")
        print(f'  {"stage":<12} {"cyc/pkt":>8} {"per rx pkt":>10}')
        total = []
        for name in dv[0]["stages"]:
            cpp = [r["stages"][name]["cycles"] / r["stages"][name]["packets"]
                   for r in dv if r["stages"].get(name, {}).get("packets")]
            per_rx = [r["stages"][name]["cycles"] / r["src_rx"] for r in dv if r["src_rx"]]
            if per_rx:
                total.append(statistics.median(per_rx))
            c = f"{statistics.median(cpp):>8.1f}" if cpp else f'{"-":>8}'
            x = f"{statistics.median(per_rx):>10.1f}" if per_rx else f'{"-":>10}'
            print(f"  {name:<12} {c} {x}")
        print(f'  {"sum stages":<12} {"":>8} {sum(total):>10.1f}')
        busy = [r["worker_busy_cycles_per_pkt"] for r in dv if r.get("worker_busy_cycles_per_pkt")]
        if busy:
            print(f'  {"worker busy":<12} {"":>8} {statistics.median(busy):>10.1f}   '
                  "(busy cycles / rx packets: the stages plus rx/tx bursts and the loop)")
        wall = [tsc / r["pps"] for r in dv if r["pps"]]
        print(f'  {"wall clock":<12} {"":>8} {statistics.median(wall):>10.1f}   '
              "(TSC Hz / pps: everything included, as in the table)")

    bad = [r for r in runs if r["problems"]]
    if bad:
        print(f"\n{len(bad)} run(s) had problems (see the check column)")
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("measure-dvrd")
    d.add_argument("--dvrctl", required=True)
    d.add_argument("--socket", required=True)
    d.add_argument("--src", default="src")
    d.add_argument("--dst", default="dst")
    d.add_argument("--system", default="dvrd")
    d.add_argument("--acl", default="")
    d.add_argument("--acl-allow", default="", help="ingress:N,egress:M: the rules the traffic must hit")
    l3 = sub.add_parser("measure-l3fwd")
    l3.add_argument("--telemetry", required=True)
    l3.add_argument("--src-port", type=int, default=0)
    l3.add_argument("--dst-port", type=int, default=1)
    for x in (d, l3):
        x.add_argument("--run", type=int, default=0, help="the run number, to pair the systems' runs")
        x.add_argument("--warmup", type=float, default=2)
        x.add_argument("--seconds", type=float, default=5)
        x.add_argument("--start-timeout", type=float, default=20)
    s = sub.add_parser("summarize")
    s.add_argument("results")
    s.add_argument("--tsc-hz", type=float, default=0)
    a = p.parse_args()
    if a.cmd == "measure-dvrd":
        measure_dvrd(a)
    elif a.cmd == "measure-l3fwd":
        measure_l3fwd(a)
    else:
        return summarize(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
