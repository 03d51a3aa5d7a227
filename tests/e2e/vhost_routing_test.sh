#!/usr/bin/env bash
# East-west routing between two VMs attached over vhost-user, the production VM attachment.
# Each "VM" is a dpdk-testpmd with a net_virtio_user device on one of dvrd's vhost-user sockets
# and a net_pcap device, forwarding in io mode between the two: what testpmd reads from its rx
# pcap goes into dvrd, and whatever dvrd sends to the VM lands in its tx pcap.
#
#   VM 1 (pa1, 10.0.1.10, port vm1) --- router ra (10.0.1.1 / 10.0.2.1) --- VM 2 (pa2, 10.0.2.20, port vm2)
#
# VM 1 sends an ARP request for its gateway, 200 UDP datagrams to VM 2, two pings to the
# gateway and one datagram with TTL 1. Checked frame by frame: VM 2 receives exactly the 200
# datagrams, in order, rewritten (gateway source MAC, VM 2's MAC, TTL 63, a correct checksum)
# and otherwise byte-identical; VM 1 receives the ARP reply, the echo replies and one ICMP time
# exceeded. Then both VMs disconnect, new ones connect to the same sockets (dvrd keeps running)
# and another 50 datagrams get through.
# Usage: vhost_routing_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init vhost_routing "$@"
need_tool dpdk-testpmd
"$E2E_PY" -c 'import scapy.all' 2>/dev/null || skip "scapy is not installed for $E2E_PY"

N1=200 # datagrams routed in the first round
N2=50  # datagrams routed after the reconnection
VM1_SOCK="$E2E_TMP/vm1.sock"
VM2_SOCK="$E2E_TMP/vm2.sock"
PY="$E2E_TMP/frames.py"

# ---------------------------------------------------------------------------------------------
# The frames: generated and checked with scapy.
cat >"$PY" <<'EOF'
import struct, sys
from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, wrpcap, raw
from scapy.layers.inet import IPerror, UDPerror

VM1_MAC, VM2_MAC = "02:aa:00:00:00:01", "02:aa:00:00:00:02"
GW1_MAC, GW2_MAC = "02:0a:00:00:01:01", "02:0a:00:00:02:01"
VM1_IP, VM2_IP, GW1_IP = "10.0.1.10", "10.0.2.20", "10.0.1.1"
TTL1_PAYLOAD = b"ttl-one-must-not-pass"

def udp(seq, ttl=64, payload=None):
    return (Ether(src=VM1_MAC, dst=GW1_MAC) / IP(src=VM1_IP, dst=VM2_IP, ttl=ttl, id=seq & 0xffff)
            / UDP(sport=40000 + (seq % 1000), dport=5000)
            / Raw(payload if payload is not None else b"dvr-seq-%06d-" % seq + bytes(range(seq % 64))))

def datagrams(first, n):
    return [udp(s) for s in range(first, first + n)]

def read_pcap(path):
    """The frames of a pcap file; fails on a truncated or malformed file (so an unclean close of
    the tx pcap is caught)."""
    data = open(path, "rb").read()
    if len(data) < 24:
        raise SystemExit("%s: %d bytes, shorter than a pcap header" % (path, len(data)))
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xa1b2c3d4, 0xa1b23c4d):
        raise SystemExit("%s: bad pcap magic %#x" % (path, magic))
    off, frames = 24, []
    while off < len(data):
        if off + 16 > len(data):
            raise SystemExit("%s: truncated record header at offset %d" % (path, off))
        _, _, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        if incl != orig or off + 16 + incl > len(data):
            raise SystemExit("%s: truncated record at offset %d (incl %d, orig %d)" % (path, off, incl, orig))
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames

def count(path):
    """Complete records so far (the file may be growing); 0 if unreadable."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return 0
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            break
        n += 1
        off += 16 + incl
    return n

def ip_checksum_ok(ip):
    c = ip.copy()
    del c.chksum
    return IP(raw(c)).chksum == ip.chksum

def icmp_checksum_ok(icmp):
    c = icmp.copy()
    del c.chksum
    return ICMP(raw(c)).chksum == icmp.chksum

errors = []
def err(msg):
    errors.append(msg)
    if len(errors) <= 20:
        print("  mismatch: " + msg)

def check_routed(path, first, n):
    """The tx pcap of VM 2 holds exactly datagrams first..first+n-1, in order, routed."""
    frames = read_pcap(path)
    sent = datagrams(first, n)
    print("  %s: %d frames" % (path.rsplit("/", 1)[-1], len(frames)))
    if len(frames) != n:
        err("VM 2 received %d frames, expected exactly %d" % (len(frames), n))
    got_payloads = []
    for k, f in enumerate(frames):
        p = Ether(f)
        if IP not in p or UDP not in p:
            err("frame %d is not IPv4/UDP: %s" % (k, p.summary()))
            continue
        ip = p[IP]
        got_payloads.append(bytes(p[UDP].payload))
        if (ip.src, ip.dst) != (VM1_IP, VM2_IP):
            err("frame %d: %s -> %s, expected %s -> %s" % (k, ip.src, ip.dst, VM1_IP, VM2_IP))
        if p.src != GW2_MAC:
            err("frame %d: source MAC %s, expected the gateway MAC %s" % (k, p.src, GW2_MAC))
        if p.dst != VM2_MAC:
            err("frame %d: destination MAC %s, expected VM 2's MAC %s" % (k, p.dst, VM2_MAC))
        if ip.ttl != 63:
            err("frame %d: TTL %d, expected 63" % (k, ip.ttl))
        if not ip_checksum_ok(ip):
            err("frame %d: IP checksum %#06x is wrong" % (k, ip.chksum))
        if k < len(sent):
            exp = sent[k].copy()
            exp.src, exp.dst = GW2_MAC, VM2_MAC
            exp[IP].ttl = 63
            exp = Ether(raw(exp))  # checksums recomputed by scapy for the rewritten header
            if f != raw(exp):
                err("frame %d differs from the datagram sent (rewritten as routing should): "
                    "got %s, expected %s" % (k, f.hex(), raw(exp).hex()))
    want_payloads = [bytes(s[UDP].payload) for s in sent]
    if got_payloads != want_payloads:
        missing = [w for w in want_payloads if w not in got_payloads]
        extra = [g for g in got_payloads if g not in want_payloads]
        err("payloads differ from those sent (in order): %d missing (first %r), %d unexpected "
            "(first %r)%s" % (len(missing), missing[:1], len(extra), extra[:1],
                              ", order differs" if not missing and not extra else ""))

def check_vm1(path, pings):
    """The tx pcap of VM 1: one ARP reply for the gateway, the echo replies, one time exceeded."""
    frames = [Ether(f) for f in read_pcap(path)]
    print("  %s: %d frames: %s" % (path.rsplit("/", 1)[-1], len(frames), "; ".join(p.summary() for p in frames)))
    arp = [p for p in frames if ARP in p]
    echo = [p for p in frames if ICMP in p and p[ICMP].type == 0]
    texc = [p for p in frames if ICMP in p and p[ICMP].type == 11]
    if len(frames) != 2 + pings:
        err("VM 1 received %d frames, expected %d (ARP reply, %d echo replies, time exceeded)"
            % (len(frames), 2 + pings, pings))
    if len(arp) != 1:
        err("VM 1 received %d ARP frames, expected 1 reply" % len(arp))
    for p in arp:
        a = p[ARP]
        if (a.op, a.psrc, a.hwsrc, a.pdst, a.hwdst) != (2, GW1_IP, GW1_MAC, VM1_IP, VM1_MAC):
            err("ARP: op %d %s is-at %s to %s/%s, expected a reply %s is-at %s to %s/%s"
                % (a.op, a.psrc, a.hwsrc, a.pdst, a.hwdst, GW1_IP, GW1_MAC, VM1_IP, VM1_MAC))
        if (p.src, p.dst) != (GW1_MAC, VM1_MAC):
            err("ARP reply: Ethernet %s -> %s, expected %s -> %s" % (p.src, p.dst, GW1_MAC, VM1_MAC))
    if sorted(p[ICMP].seq for p in echo) != list(range(1, pings + 1)):
        err("echo replies for sequence numbers %s, expected %s"
            % (sorted(p[ICMP].seq for p in echo), list(range(1, pings + 1))))
    for p in echo:
        if (p[IP].src, p[IP].dst, p.src, p.dst) != (GW1_IP, VM1_IP, GW1_MAC, VM1_MAC):
            err("echo reply %s -> %s (%s -> %s), expected %s -> %s (%s -> %s)"
                % (p[IP].src, p[IP].dst, p.src, p.dst, GW1_IP, VM1_IP, GW1_MAC, VM1_MAC))
        if p[ICMP].id != 0x4242 or bytes(p[ICMP].payload) != b"ping-%d" % p[ICMP].seq:
            err("echo reply seq %d: id %#x payload %r, expected id 0x4242 payload %r"
                % (p[ICMP].seq, p[ICMP].id, bytes(p[ICMP].payload), b"ping-%d" % p[ICMP].seq))
        if not ip_checksum_ok(p[IP]) or not icmp_checksum_ok(p[ICMP]):
            err("echo reply seq %d: bad IP or ICMP checksum" % p[ICMP].seq)
    if len(texc) != 1:
        err("VM 1 received %d ICMP time exceeded, expected 1" % len(texc))
    for p in texc:
        if (p[IP].src, p[IP].dst, p.src, p.dst, p[ICMP].code) != (GW1_IP, VM1_IP, GW1_MAC, VM1_MAC, 0):
            err("time exceeded %s -> %s (%s -> %s) code %d, expected %s -> %s (%s -> %s) code 0"
                % (p[IP].src, p[IP].dst, p.src, p.dst, p[ICMP].code, GW1_IP, VM1_IP, GW1_MAC, VM1_MAC))
        if not ip_checksum_ok(p[IP]) or not icmp_checksum_ok(p[ICMP]):
            err("time exceeded: bad IP or ICMP checksum")
        if IPerror not in p or UDPerror not in p:
            err("time exceeded does not quote an IP/UDP header: %s" % p.summary())
        else:
            q = p[IPerror]
            if (q.src, q.dst, q.ttl, p[UDPerror].dport) != (VM1_IP, VM2_IP, 1, 5000):
                err("time exceeded quotes %s -> %s ttl %d dport %d, expected %s -> %s ttl 1 dport 5000"
                    % (q.src, q.dst, q.ttl, p[UDPerror].dport, VM1_IP, VM2_IP))

def main():
    cmd = sys.argv[1]
    if cmd == "gen-vm1":  # PATH FIRST N PINGS
        path, first, n, pings = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        frames = []
        if pings:
            frames.append(Ether(src=VM1_MAC, dst="ff:ff:ff:ff:ff:ff")
                          / ARP(op=1, hwsrc=VM1_MAC, psrc=VM1_IP, pdst=GW1_IP))
        frames += datagrams(first, n)
        for s in range(1, pings + 1):
            frames.append(Ether(src=VM1_MAC, dst=GW1_MAC) / IP(src=VM1_IP, dst=GW1_IP)
                          / ICMP(type=8, id=0x4242, seq=s) / Raw(b"ping-%d" % s))
        if pings:
            frames.append(udp(99999, ttl=1, payload=TTL1_PAYLOAD))
        wrpcap(path, frames)
    elif cmd == "gen-empty":  # PATH: a pcap with the header only
        with open(sys.argv[2], "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    elif cmd == "count":
        print(count(sys.argv[2]))
    elif cmd == "check-routed":  # PATH FIRST N
        check_routed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "check-vm1":  # PATH PINGS
        check_vm1(sys.argv[2], int(sys.argv[3]))
    else:
        raise SystemExit("unknown command " + cmd)
    if errors:
        print("%d mismatch(es)" % len(errors))
        sys.exit(1)

main()
EOF

py() { "$E2E_PY" "$PY" "$@"; }
vr_pcap_count() { py count "$1"; }
vr_pcap_has() { [ "$(vr_pcap_count "$1")" -ge "$2" ] 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# The VMs: testpmd in interactive mode, its commands written into a FIFO that this shell holds
# open (read-write, so neither side blocks on open), so that forwarding starts only once dvrd
# sees the VM's link up, and `quit` closes the pcap files cleanly.
#
# vr_start_vm TAG VHOST_SOCK MAC RX_PCAP TX_PCAP: sets VM_PID_<TAG> and VM_FD_<TAG>.
vr_start_vm() {
  local tag=$1 sock=$2 mac=$3 rx=$4 tx=$5 prefix fifo log fd pid
  new_prefix prefix "$tag"
  fifo="$E2E_TMP/$tag.cmd"
  log="$E2E_TMP/testpmd-$tag.log"
  mkfifo "$fifo" || fail "mkfifo $fifo failed"
  exec {fd}<>"$fifo" || fail "cannot open $fifo"
  register_log "$log"
  log "starting $tag: dpdk-testpmd --file-prefix $prefix --vdev net_virtio_user0,path=$sock,mac=$mac" \
    "--vdev net_pcap0,rx_pcap=$(basename "$rx"),tx_pcap=$(basename "$tx") -- -i --forward-mode=io"
  # Main lcore on CPU 1, the forwarding lcore on CPU 0: dvrd's worker (lcore 1) has CPU 1.
  # --no-flush-rx: testpmd would otherwise drain the rx pcap before forwarding starts.
  dpdk-testpmd --no-huge -m 256 --no-pci --file-prefix "$prefix" --lcores '0@1,1@0' \
    --log-level=lib.eal:warning --no-telemetry \
    --vdev "net_virtio_user0,path=$sock,queues=1,mac=$mac" \
    --vdev "net_pcap0,rx_pcap=$rx,tx_pcap=$tx" -- \
    -i --no-mlockall --forward-mode=io --total-num-mbufs=2048 --no-flush-rx \
    <"$fifo" >"$log" 2>&1 &
  pid=$!
  register_pid "$pid"
  printf -v "VM_PID_$tag" '%s' "$pid"
  printf -v "VM_FD_$tag" '%s' "$fd"
}

vr_vm_cmd() { # TAG COMMAND
  local fdvar="VM_FD_$1"
  printf '%s\n' "$2" >&"${!fdvar}"
}

# vr_stop_vm TAG: `quit` (stops forwarding, closes the ports, so the pcap files), 30 s at most,
# exit status 0.
vr_stop_vm() {
  local tag=$1 pidvar="VM_PID_$1" fdvar="VM_FD_$1" pid status cmdfd
  pid=${!pidvar}
  cmdfd=${!fdvar}
  proc_alive "$pid" || fail "$tag (testpmd pid $pid) exited before it was told to quit"
  vr_vm_cmd "$tag" quit
  wait_exit "$pid" 30 || fail "$tag (testpmd pid $pid) did not quit within 30 s"
  wait "$pid"
  status=$?
  exec {cmdfd}>&-
  [ "$status" -eq 0 ] || fail "$tag (testpmd) exited with status $status after quit"
  grep -q 'Port 1 is closed' "$E2E_TMP/testpmd-$tag.log" ||
    fail "$tag (testpmd) did not close its pcap port (log: $E2E_TMP/testpmd-$tag.log)"
  log "    ok: $tag quit cleanly (status 0, pcap port closed)"
}

vr_stats_json() { ctl --json stats; }
vr_routed() { vr_stats_json | json_eval '[int(r.get("routed_packets", 0)) for r in d.get("routers", []) if r["router_id"] == "ra"][0]'; }
vr_routed_at_least() { [ "$(vr_routed)" -ge "$1" ] 2>/dev/null; }
vr_link_of() { ctl --json port list | json_eval "port_info(d,\"$1\")[\"link\"]"; }
vr_link_is() { [ "$(vr_link_of "$1")" = "$2" ]; }
vr_wait_link() { # PORT STATE WHY
  wait_for 30 vr_link_is "$1" "$2" || fail "$1's link is '$(vr_link_of "$1")', not $2, 30 s after $3"
  log "    ok: $1 link is $2"
}
# vr_router_drop FILE REASON: the router ra's drops of REASON in a stats snapshot.
vr_router_drop() {
  jq_file "$1" "sum(int(x[\"packets\"]) for r in d.get(\"routers\", []) if r[\"router_id\"] == \"ra\" for x in r.get(\"drop_reasons\", []) if x[\"reason\"] == \"$2\")"
}
vr_wsum() { jq_file "$1" "sum(int(w.get(\"$2\", 0)) for w in d.get(\"workers\", []))"; }

# ---------------------------------------------------------------------------------------------
start_dvrd --port "vm1=vhost-user,path=$VM1_SOCK" --port "vm2=vhost-user,path=$VM2_SOCK"
FIRST_DVRD_PID=$DVRD_PID
wait_for 10 test -S "$VM1_SOCK" || fail "dvrd did not create $VM1_SOCK"
wait_for 10 test -S "$VM2_SOCK" || fail "dvrd did not create $VM2_SOCK"

check "tenant configuration: router ra between 10.0.1.0/24 (pa1 on vm1) and 10.0.2.0/24 (pa2 on vm2)"
ctl router add ra || fail "router add ra"
ctl network add na1 --segmentation-id 101 || fail "network add na1"
ctl network add na2 --segmentation-id 102 || fail "network add na2"
ctl subnet add sa1 --network na1 --cidr 10.0.1.0/24 || fail "subnet add sa1"
ctl subnet add sa2 --network na2 --cidr 10.0.2.0/24 || fail "subnet add sa2"
ctl interface add ia1 --router ra --subnet sa1 --mac 02:0a:00:00:01:01 || fail "interface add ia1"
ctl interface add ia2 --router ra --subnet sa2 --mac 02:0a:00:00:02:01 || fail "interface add ia2"
ctl vm-port add pa1 --network na1 --mac 02:aa:00:00:00:01 --ip 10.0.1.10 --port vm1 || fail "vm-port add pa1"
ctl vm-port add pa2 --network na2 --mac 02:aa:00:00:00:02 --ip 10.0.2.20 --port vm2 || fail "vm-port add pa2"
ctl route show ra >"$E2E_TMP/routes.txt" || fail "dvrctl route show ra failed"
grep -q '10.0.2.0/24' "$E2E_TMP/routes.txt" || fail "ra has no route to 10.0.2.0/24: $(cat "$E2E_TMP/routes.txt")"
log "    ok: configured; ra routes 10.0.2.0/24"
expect_eq "ra routed_packets before any traffic" "$(vr_routed)" 0

py gen-vm1 "$E2E_TMP/a1_in.pcap" 0 "$N1" 2 || fail "cannot write a1_in.pcap"
py gen-vm1 "$E2E_TMP/a2_in.pcap" 1000 "$N2" 0 || fail "cannot write a2_in.pcap"
py gen-empty "$E2E_TMP/empty.pcap" || fail "cannot write empty.pcap"

# ---------------------------------------------------------------------------------------------
check "round 1: VM 2 connects, then VM 1, which sends ARP, $N1 datagrams, 2 pings, 1 datagram with TTL 1"
vr_start_vm b1 "$VM2_SOCK" 02:aa:00:00:00:02 "$E2E_TMP/empty.pcap" "$E2E_TMP/b1_out.pcap"
vr_wait_link vm2 LINK_STATE_UP "VM 2 (b1) started"
vr_vm_cmd b1 start
vr_start_vm a1 "$VM1_SOCK" 02:aa:00:00:00:01 "$E2E_TMP/a1_in.pcap" "$E2E_TMP/a1_out.pcap"
vr_wait_link vm1 LINK_STATE_UP "VM 1 (a1) started"
vr_vm_cmd a1 start

wait_for 60 vr_routed_at_least "$N1" || fail "ra routed_packets did not reach $N1 within 60 s (now $(vr_routed))"
log "    ok: ra routed_packets reached $N1"
wait_for 30 vr_pcap_has "$E2E_TMP/b1_out.pcap" "$N1" ||
  fail "VM 2 wrote $(vr_pcap_count "$E2E_TMP/b1_out.pcap") frames to b1_out.pcap within 30 s, expected $N1"
wait_for 30 vr_pcap_has "$E2E_TMP/a1_out.pcap" 4 ||
  fail "VM 1 wrote $(vr_pcap_count "$E2E_TMP/a1_out.pcap") frames to a1_out.pcap within 30 s, expected 4"
stable_stats "$E2E_TMP/s1.json"

check "both VMs quit; their pcap files are complete"
vr_stop_vm a1
vr_stop_vm b1
vr_wait_link vm1 LINK_STATE_DOWN "VM 1 quit"
vr_wait_link vm2 LINK_STATE_DOWN "VM 2 quit"

check "VM 2 received exactly the $N1 datagrams, in order, routed (MACs, TTL 63, checksum)"
py check-routed "$E2E_TMP/b1_out.pcap" 0 "$N1" || fail "VM 2's frames (b1_out.pcap) are not the $N1 routed datagrams"
log "    ok: $N1 datagrams, in order, from 02:0a:00:00:02:01 to 02:aa:00:00:00:02, TTL 63, checksums valid, payloads intact"

check "VM 1 received the ARP reply, 2 echo replies and 1 time exceeded from its gateway"
py check-vm1 "$E2E_TMP/a1_out.pcap" 2 || fail "VM 1's frames (a1_out.pcap) are not the expected replies"
log "    ok: ARP 10.0.1.1 is-at 02:0a:00:00:01:01, echo replies 1 and 2, one ICMP time exceeded"

check "dvrd's counters after round 1"
S1="$E2E_TMP/s1.json"
expect_eq "ra routed_packets" "$(jq_file "$S1" '[int(r.get("routed_packets", 0)) for r in d["routers"] if r["router_id"] == "ra"][0]')" "$N1"
expect_eq "ra drops as ttl_exceeded" "$(vr_router_drop "$S1" ttl_exceeded)" 1
expect_eq "vm1 rx_packets (ARP + datagrams + pings + TTL 1)" "$(jq_file "$S1" 'pstat(d,"vm1","rx_packets")')" "$((N1 + 4))"
expect_eq "vm1 drops as ttl_exceeded" "$(jq_file "$S1" 'pdrop(d,"vm1","ttl_exceeded")')" 1
expect_eq "vm1 drops (all reasons)" "$(jq_file "$S1" 'pstat(d,"vm1","drops")')" 1
expect_eq "vm1 tx_packets (ARP reply, 2 echo replies, time exceeded)" "$(jq_file "$S1" 'pstat(d,"vm1","tx_packets")')" 4
expect_eq "vm2 tx_packets" "$(jq_file "$S1" 'pstat(d,"vm2","tx_packets")')" "$N1"
expect_eq "vm2 drops (all reasons)" "$(jq_file "$S1" 'pstat(d,"vm2","drops")')" 0
expect_eq "vm2 rx_packets" "$(jq_file "$S1" 'pstat(d,"vm2","rx_packets")')" 0
expect_eq "ARP replies" "$(vr_wsum "$S1" arp_replies)" 1
expect_eq "echo replies" "$(vr_wsum "$S1" echo_replies)" 2
expect_eq "ICMP errors sent" "$(vr_wsum "$S1" icmp_errors_sent)" 1
expect_eq "frames punted" "$(vr_wsum "$S1" punted)" 0

# ---------------------------------------------------------------------------------------------
check "round 2: new VMs on the same sockets (dvrd not restarted), VM 1 sends $N2 more datagrams"
proc_alive "$DVRD_PID" || fail "dvrd died when the VMs disconnected"
vr_start_vm b2 "$VM2_SOCK" 02:aa:00:00:00:02 "$E2E_TMP/empty.pcap" "$E2E_TMP/b2_out.pcap"
vr_wait_link vm2 LINK_STATE_UP "the new VM 2 (b2) started"
vr_vm_cmd b2 start
vr_start_vm a2 "$VM1_SOCK" 02:aa:00:00:00:01 "$E2E_TMP/a2_in.pcap" "$E2E_TMP/a2_out.pcap"
vr_wait_link vm1 LINK_STATE_UP "the new VM 1 (a2) started"
vr_vm_cmd a2 start
wait_for 60 vr_routed_at_least "$((N1 + N2))" ||
  fail "ra routed_packets did not reach $((N1 + N2)) within 60 s of the reconnection (now $(vr_routed))"
log "    ok: ra routed_packets reached $((N1 + N2))"
wait_for 30 vr_pcap_has "$E2E_TMP/b2_out.pcap" "$N2" ||
  fail "the new VM 2 wrote $(vr_pcap_count "$E2E_TMP/b2_out.pcap") frames to b2_out.pcap within 30 s, expected $N2"
stable_stats "$E2E_TMP/s2.json"
vr_stop_vm a2
vr_stop_vm b2

check "the new VM 2 received exactly the $N2 new datagrams, routed"
py check-routed "$E2E_TMP/b2_out.pcap" 1000 "$N2" || fail "VM 2's frames (b2_out.pcap) are not the $N2 routed datagrams"
log "    ok: $N2 datagrams, in order, rewritten and intact"
expect_eq "frames the new VM 1 received (nothing was addressed to it)" "$(py count "$E2E_TMP/a2_out.pcap")" 0
S2="$E2E_TMP/s2.json"
expect_eq "ra routed_packets" "$(jq_file "$S2" '[int(r.get("routed_packets", 0)) for r in d["routers"] if r["router_id"] == "ra"][0]')" "$((N1 + N2))"
expect_eq "vm2 tx_packets" "$(jq_file "$S2" 'pstat(d,"vm2","tx_packets")')" "$((N1 + N2))"
expect_eq "vm2 drops (all reasons)" "$(jq_file "$S2" 'pstat(d,"vm2","drops")')" 0
expect_eq "vm1 drops (all reasons)" "$(jq_file "$S2" 'pstat(d,"vm1","drops")')" 1
expect_eq "dvrd pid (never restarted)" "$DVRD_PID" "$FIRST_DVRD_PID"
expect_eq "dvrd starts" "$DVRD_STARTS" 1

check "SIGTERM to dvrd: exit 0, vhost-user sockets removed"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
if [ -e "$VM1_SOCK" ] || [ -e "$VM2_SOCK" ]; then
  fail "a vhost-user socket is still there after dvrd exited"
fi
log "    ok: vhost-user sockets removed"
pass
