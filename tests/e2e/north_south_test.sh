#!/usr/bin/env bash
# North-south DVR: distributed floating IPs and centralized default SNAT, end to end. Three dvrd
# hosts on the multi-host overlay (scripts/lib/multihost.sh): h1 and h2 are compute hosts (agent
# mode dvr), h3 hosts router ra's default SNAT (dvr_snat). Every host also has a tap port "ext"
# on physnet1, the flat external network 203.0.113.0/25, bridged in an "internet" namespace
# whose 203.0.113.1 is the upstream router and whose 203.0.113.200 runs real TCP servers.
#   - a1@h1 has floating IP 203.0.113.10: it reaches the server, which sees 203.0.113.10; the
#     server reaches a1 through 203.0.113.10 (a byte-identical transfer); its frames on the
#     external network come from h1's floating-IP gateway MAC (it left from its own host), and h1
#     announced the floating IP with gratuitous ARP;
#   - a2@h2 has none: it reaches the server through h3, and the server sees the SNAT address
#     203.0.113.5, sent from h3's MAC; 1000 concurrent connections through SNAT all complete,
#     and h3 lists their sessions;
#   - moving the SNAT association to h2 (made dvr_snat) restores a2's outbound connectivity,
#     now from h2's MAC;
#   - hairpin: a2 reaches a1's floating IP from inside the cloud (SNAT, then DNAT on h1);
#   - tenant B's router rb is centralized (distributed=false), hosted on h3: b1@h1 reaches
#     b3@h3 across subnets, h1 only switches to rb's gateway over the overlay, h3 routes.
# Usage: north_south_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/lib/multihost.sh
. "$(cd "$(dirname "$0")/../.." && pwd)/scripts/lib/multihost.sh"
e2e_init north_south "$@"
need_tool socat sha256sum ping tcpdump timeout
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || skip "scapy (python3-scapy) is missing"

MH_VMS=(a1 a2 a3 b1 b3)
EXT_CIDR=203.0.113.0/25
UPSTREAM=203.0.113.1
SERVER=203.0.113.200
SNAT_IP=203.0.113.5
FIP_A1=203.0.113.10
declare -A FG_IP=([h1]=203.0.113.2 [h2]=203.0.113.3 [h3]=203.0.113.4)
declare -A FG_MAC=([h1]=02:fe:00:00:00:01 [h2]=02:fe:00:00:00:02 [h3]=02:fe:00:00:00:03)
declare -A MODE=([h1]=dvr [h2]=dvr [h3]=dvr_snat)

R=$(rand4)
declare -A SOCK UPLINK EXT TAP NS
iface() {
  local n="ns$1$$${R}"
  n=${n:0:15}
  register_link "$n"
  printf '%s' "$n"
}
for h in "${MH_HOSTS[@]}"; do
  UPLINK[$h]=$(iface "u$h")
  EXT[$h]=$(iface "x$h")
done
for vm in "${MH_VMS[@]}"; do TAP[$vm]=$(iface "$vm"); done
hctl() {
  local h=$1
  shift
  "$DVRCTL" --socket "${SOCK[$h]}" "$@"
}

check "three dvrd hosts: an overlay uplink, an external port and their VMs' tap ports each"
for h in "${MH_HOSTS[@]}"; do
  args=(--host-id "$h" --port "up=tap,iface=${UPLINK[$h]}" --port "ext=tap,iface=${EXT[$h]}")
  for vm in "${MH_VMS[@]}"; do
    [ "${MH_VM_HOST[$vm]}" = "$h" ] && args+=(--port "$vm=tap,iface=${TAP[$vm]}")
  done
  E2E_SOCK="$E2E_TMP/$h.sock" start_dvrd "${args[@]}"
  SOCK[$h]=$DVRD_SOCK
done

check "the underlay, the internet namespace on the external bridge, and the VMs"
new_netns FABRIC fabric
mh_setup_fabric "$FABRIC" 2>"$E2E_TMP/err" || fail "fabric: $(cat "$E2E_TMP/err")"
new_netns INET inet
ip -n "$INET" link add brx address 02:fc:00:00:00:fe type bridge || fail "brx"
ip -n "$INET" addr add "$UPSTREAM/25" dev brx || fail "upstream address"
ip -n "$INET" addr add "$SERVER/32" dev lo || fail "server address"
ip -n "$INET" link set brx up || fail "brx up"
for h in "${MH_HOSTS[@]}"; do
  wait_for 10 ip link show dev "${UPLINK[$h]}" || fail "uplink tap of $h did not appear"
  mh_attach_uplink "$FABRIC" "$h" "${UPLINK[$h]}" 2>"$E2E_TMP/err" ||
    fail "attaching $h's uplink: $(cat "$E2E_TMP/err")"
  wait_for 10 ip link show dev "${EXT[$h]}" || fail "external tap of $h did not appear"
  ip link set dev "${EXT[$h]}" netns "$INET" || fail "moving $h's external tap"
  # Its own MAC (the tap's kernel side starts with dvrd's; see mh_attach_uplink).
  ip -n "$INET" link set dev "${EXT[$h]}" address "02:fc:00:00:00:0${h#h}" master brx up ||
    fail "attaching $h's external tap"
done
for vm in "${MH_VMS[@]}"; do
  wait_for 10 ip link show dev "${TAP[$vm]}" || fail "tap of VM $vm did not appear"
  new_netns n "$vm"
  NS[$vm]=$n
  mh_setup_vm "$vm" "$n" "${TAP[$vm]}" 2>"$E2E_TMP/err" || fail "VM $vm: $(cat "$E2E_TMP/err")"
done
ip netns exec "$INET" tcpdump -i brx -n -U -s 128 -w "$E2E_TMP/ext.pcap" \
  >"$E2E_TMP/tcpdump-ext.log" 2>&1 &
register_pid $!
wait_for 10 grep -q "listening on brx" "$E2E_TMP/tcpdump-ext.log" || fail "tcpdump on brx did not start"

check "every host: the tenants, its agent mode and physnet, the external network, router ra's gateway"
for h in "${MH_HOSTS[@]}"; do
  mh_configure "$h" 2>"$E2E_TMP/err" || fail "configuring $h: $(cat "$E2E_TMP/err")"
  mh_ctl "$h" host set --agent-mode "${MODE[$h]}" --physnet physnet1=ext || fail "host set on $h"
  mh_ctl "$h" network add ext --external --provider flat --physnet physnet1 || fail "ext network"
  mh_ctl "$h" subnet add sext --network ext --cidr "$EXT_CIDR" --gateway "$UPSTREAM" || fail "ext subnet"
  for g in "${MH_HOSTS[@]}"; do
    mh_ctl "$h" fip-gateway add "fg-$g" --network ext --host "$g" --ip "${FG_IP[$g]}" \
      --mac "${FG_MAC[$g]}" || fail "fip-gateway fg-$g on $h"
  done
  mh_ctl "$h" router add ra --tenant tenant-a --external-network ext \
    --external-gateway-ip "$SNAT_IP" --snat --replace || fail "router ra's gateway on $h"
  mh_ctl "$h" snat add ra --host h3 || fail "snat add on $h"
  mh_ctl "$h" router add rb --tenant tenant-b --distributed false --replace || fail "rb on $h"
  mh_ctl "$h" snat add rb --host h3 || fail "hosting rb on h3, on $h"
  mh_ctl "$h" floating-ip add fip-a1 --router ra --floating-ip "$FIP_A1" \
    --fixed-ip "${MH_VM_IP[a1]}" --vm-port pa1 || fail "floating-ip on $h"
done
hctl h3 snat list
# The compute host h1 cannot take the SNAT: its agent mode says so.
out=$(hctl h1 snat add ra --host h1 --replace 2>&1) && fail "h1 (dvr mode) accepted to host SNAT"
expect_contains "dvr mode refuses SNAT" "$out" "cannot host SNAT"

upstream_resolved() {  # HOST
  hctl "$1" --json external show >"$E2E_TMP/ext-$1.json" 2>/dev/null || return 1
  [ "$(jq_file "$E2E_TMP/ext-$1.json" \
    'any(n.get("ip") == "'"$UPSTREAM"'" and n.get("mac") for n in d["networks"][0].get("neighbors", []))')" = true ]
}
underlay_resolved() {
  local h
  for h in "${MH_HOSTS[@]}"; do
    hctl "$h" --json underlay show >"$E2E_TMP/ul-$h.json" 2>/dev/null || return 1
    [ "$(jq_file "$E2E_TMP/ul-$h.json" 'all(r.get("resolved", False) for r in d["remote_hosts"])')" = true ] ||
      return 1
  done
}
wait_for 20 underlay_resolved || fail "the underlay paths did not resolve within 20 s"
for h in "${MH_HOSTS[@]}"; do
  wait_for 10 upstream_resolved "$h" || fail "$h did not resolve the upstream router $UPSTREAM: $(cat "$E2E_TMP/ext-$h.json")"
done
hctl h1 external show
expect_eq "h1 serves a1's floating IP" \
  "$(jq_file "$E2E_TMP/ext-h1.json" '",".join(d["networks"][0].get("floating_ips", []))')" "$FIP_A1"
expect_eq "h3 serves ra's SNAT address" \
  "$(jq_file "$E2E_TMP/ext-h3.json" '",".join(d["networks"][0].get("snat_ips", []))')" "$SNAT_IP"
expect_eq "h2 serves no floating IP (a2 has none)" \
  "$(jq_file "$E2E_TMP/ext-h2.json" 'len(d["networks"][0].get("floating_ips", []))')" 0

vmx() {
  local vm=$1
  shift
  ip netns exec "${NS[$vm]}" "$@"
}
# The server tells each client the address it sees.
ip netns exec "$INET" socat "TCP-LISTEN:7000,bind=$SERVER,reuseaddr,fork" \
  SYSTEM:'echo $SOCAT_PEERADDR' >"$E2E_TMP/whoami.log" 2>&1 &
register_pid $!
wait_for 10 ip netns exec "$INET" sh -c "ss -ltn | grep -q '$SERVER:7000 '" || fail "no whoami server"
seen_by_server() {  # VM
  vmx "$1" timeout 10 socat -T 5 - "TCP:$SERVER:7000" </dev/null 2>&1
}

check "a1@h1 (floating IP $FIP_A1) reaches the internet, which sees the floating IP"
out=$(vmx a1 ping -c 3 -i 0.2 -W 5 "$SERVER" 2>&1) || fail "a1 cannot ping $SERVER: $out"
expect_eq "the server sees a1 as" "$(seen_by_server a1)" "$FIP_A1"

check "the internet reaches a1 through its floating IP (2 MiB, byte-identical)"
head -c 2097152 /dev/urandom >"$E2E_TMP/payload"
vmx a1 timeout 60 socat -u TCP-LISTEN:8000,reuseaddr "OPEN:$E2E_TMP/recv-a1,creat,trunc" &
lpid=$!
register_pid "$lpid"
wait_for 10 vmx a1 sh -c "ss -ltn | grep -q ':8000 '" || fail "no listener in a1"
ip netns exec "$INET" timeout 60 socat -u "OPEN:$E2E_TMP/payload" "TCP:$FIP_A1:8000" ||
  fail "TCP from the internet to $FIP_A1 failed"
wait "$lpid" 2>/dev/null
expect_eq "sha256 of what a1 received" "$(sha256sum <"$E2E_TMP/recv-a1" | cut -d' ' -f1)" \
  "$(sha256sum <"$E2E_TMP/payload" | cut -d' ' -f1)"
out=$(ip netns exec "$INET" ping -c 3 -i 0.2 -W 5 "$FIP_A1" 2>&1) || fail "the internet cannot ping $FIP_A1: $out"

check "a2@h2 (no floating IP) reaches the internet through h3's SNAT: the server sees $SNAT_IP"
expect_eq "the server sees a2 as" "$(seen_by_server a2)" "$SNAT_IP"
out=$(vmx a2 ping -c 3 -i 0.2 -W 5 "$SERVER" 2>&1) || fail "a2 cannot ping $SERVER through SNAT: $out"
expect_eq "a3@h3 (SNAT on its own host) is seen as" "$(seen_by_server a3)" "$SNAT_IP"

check "a connection from a2 through SNAT on h3 stays open until SNAT moves (below)"
# Opened while h3's session table is nearly empty: docs/north-south.md says when such a
# connection survives the move (the new host picks the same outside port when that port's
# session was the endpoint's first candidate on the old host and is free on the new one).
cat >"$E2E_TMP/echo_server.py" <<'PY'
import asyncio, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
async def handle(r, w):
    try:
        while line := await r.readline():
            w.write(line); await w.drain()
    finally:
        w.close()
async def main():
    srv = await asyncio.start_server(handle, sys.argv[1], int(sys.argv[2]), backlog=2048)
    async with srv: await srv.serve_forever()
asyncio.run(main())
PY
ip netns exec "$INET" /usr/bin/python3 "$E2E_TMP/echo_server.py" "$SERVER" 7100 >"$E2E_TMP/echo.log" 2>&1 &
register_pid $!
wait_for 10 ip netns exec "$INET" sh -c "ss -ltn | grep -q '$SERVER:7100 '" || fail "no echo server"
# A connection open across the move (docs/north-south.md says what happens to it).
cat >"$E2E_TMP/long_client.py" <<'PY'
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
f = s.makefile("rwb")
def echo(msg):
    f.write(msg); f.flush()
    return f.readline() == msg
print("port:", s.getsockname()[1], flush=True)
print("before:", echo(b"before the move\n"), flush=True)
while not os.path.exists(sys.argv[3]): time.sleep(0.1)
print("after:", echo(b"after the move\n"), flush=True)
PY
vmx a2 timeout 150 /usr/bin/python3 "$E2E_TMP/long_client.py" "$SERVER" 7100 "$E2E_TMP/moved" \
  >"$E2E_TMP/long.log" 2>&1 &
long_pid=$!
register_pid "$long_pid"
wait_for 10 grep -q "before: True" "$E2E_TMP/long.log" || fail "the long connection did not start: $(cat "$E2E_TMP/long.log")"

check "1000 concurrent connections from a2 through SNAT all complete"
cat >"$E2E_TMP/many_clients.py" <<'PY'
import asyncio, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
async def one(i, opened, go):
    r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
    opened.append(w.get_extra_info("sockname")[1])
    await go.wait()          # every connection is open at once before any finishes
    msg = b"conn %d\n" % i
    w.write(msg); await w.drain()
    got = await asyncio.wait_for(r.readline(), 30)
    w.close()
    return got == msg
async def main():
    opened, go = [], asyncio.Event()
    tasks = [asyncio.create_task(one(i, opened, go)) for i in range(n)]
    for _ in range(600):
        if len(opened) == n or any(t.done() for t in tasks): break
        await asyncio.sleep(0.05)
    print("open at once:", len(opened))
    go.set()
    res = await asyncio.gather(*tasks, return_exceptions=True)
    ok = sum(1 for x in res if x is True)
    print("completed:", ok, "of", n)
    with open(sys.argv[4], "w") as f: f.write(" ".join(map(str, opened)))
    sys.exit(0 if ok == n and len(opened) == n else 1)
asyncio.run(main())
PY
out=$(vmx a2 timeout 120 /usr/bin/python3 "$E2E_TMP/many_clients.py" "$SERVER" 7100 1000 \
  "$E2E_TMP/client_ports" 2>&1) ||
  fail "1000 connections through SNAT: $out"
log "    $(tr '\n' ' ' <<<"$out")"
hctl h3 --json snat sessions --router ra --limit 5000 >"$E2E_TMP/sessions.json" || fail "snat sessions"
# Every client port has its session (endpoint-independent: one per inside address and port; the
# kernel may reuse a port of an earlier connection to another server, sharing its session).
n_tcp=$(jq_file "$E2E_TMP/sessions.json" \
  'len({s["inside_port"] for s in d.get("sessions", []) if s["protocol"] == "tcp" and s["inside_ip"] == "'"${MH_VM_IP[a2]}"'"} & set(map(int, open("'"$E2E_TMP/client_ports"'").read().split())))')
expect_eq "client ports of the 1000 connections with a SNAT session on h3" "$n_tcp" 1000
hctl h3 --json stats >"$E2E_TMP/stats-h3.json" || fail "stats on h3"
expect_eq "h3's SNAT sessions created (at least 1000)" \
  "$(jq_file "$E2E_TMP/stats-h3.json" 'wsum(d, "snat_sessions_created") >= 1000')" true
hctl h2 --json stats >"$E2E_TMP/stats-h2.json" || fail "stats on h2"
expect_eq "h2 sent a2's traffic to the SNAT host (at least 1000 packets)" \
  "$(jq_file "$E2E_TMP/stats-h2.json" 'wsum(d, "snat_redirected") >= 1000')" true

check "hairpin: a2 reaches a1's floating IP from inside the cloud"
out=$(vmx a2 ping -c 3 -i 0.2 -W 5 "$FIP_A1" 2>&1) || fail "a2 cannot ping $FIP_A1: $out"

check "centralized router rb (hosted on h3): b1@h1 reaches b3@h3; h1 does not route it"
out=$(vmx b1 ping -c 3 -i 0.2 -W 5 "${MH_VM_IP[b3]}" 2>&1) || fail "b1 cannot ping b3 through rb on h3: $out"
hctl h1 --json stats >"$E2E_TMP/stats-h1.json" || fail "stats on h1"
hctl h3 --json stats >"$E2E_TMP/stats-h3.json" || fail "stats on h3"
expect_eq "packets rb routed on h1" "$(jq_file "$E2E_TMP/stats-h1.json" 'rstat(d, "rb")')" 0
expect_eq "rb routed b1's pings and b3's replies on h3 (at least 6)" \
  "$(jq_file "$E2E_TMP/stats-h3.json" 'rstat(d, "rb") >= 6')" true
# b1 still reaches nobody of tenant A (the same addresses, another router).
out=$(vmx b1 ping -c 2 -i 0.2 -W 2 "$SERVER" 2>&1) && fail "b1 (rb has no external gateway) reached the internet"

check "moving ra's SNAT to h2 (now dvr_snat) restores a2's outbound connectivity"
mh_ctl h2 host set --agent-mode dvr_snat || fail "h2 to dvr_snat"
for h in "${MH_HOSTS[@]}"; do
  mh_ctl "$h" snat add ra --host h2 --replace || fail "moving the SNAT on $h"
done
hctl h2 snat list
wait_for 10 upstream_resolved h2 || fail "h2 lost the upstream router"
got=""
for _ in 1 2 3 4 5; do
  got=$(seen_by_server a2) && [ "$got" = "$SNAT_IP" ] && break
  sleep 1
done
expect_eq "after the move the server sees a2 as" "$got" "$SNAT_IP"
touch "$E2E_TMP/moved"
wait "$long_pid" 2>/dev/null
if [ "$(tail -n 1 "$E2E_TMP/long.log")" != "after: True" ]; then
  lport=$(sed -n 's/^port: //p' "$E2E_TMP/long.log")
  hctl h2 snat sessions --router ra | grep -E "^ROUTER| $lport " || true
  tcpdump -r "$E2E_TMP/ext.pcap" -n -e "tcp port 7100 and ((tcp[tcpflags] & tcp-rst) != 0 or tcp[tcpflags] & tcp-push != 0)" 2>/dev/null | tail -12
fi
expect_eq "a connection open across the move continues through h2" \
  "$(tail -n 1 "$E2E_TMP/long.log")" "after: True"
expect_eq "h3 no longer serves the SNAT address" \
  "$(hctl h3 --json external show | json_eval 'len(d["networks"][0].get("snat_ips", []))')" 0

check "the external capture: who sent what"
sleep 1
cat >"$E2E_TMP/check_ext.py" <<PY
import sys
from scapy.all import rdpcap, Ether, IP, ARP
pk = rdpcap("$E2E_TMP/ext.pcap")
def srcmacs(ip):
    return sorted({p[Ether].src for p in pk if IP in p and p[IP].src == ip})
print("from $FIP_A1:", srcmacs("$FIP_A1"))
print("from $SNAT_IP:", srcmacs("$SNAT_IP"))
garp = [p for p in pk if ARP in p and p[ARP].op == 1 and p[ARP].psrc == p[ARP].pdst == "$FIP_A1"]
print("gratuitous ARPs for $FIP_A1:", len(garp), sorted({p[ARP].hwsrc for p in garp}))
fails = []
if srcmacs("$FIP_A1") != ["${FG_MAC[h1]}"]: fails.append("a1's floating IP traffic did not all come from h1")
if srcmacs("$SNAT_IP") != sorted(["${FG_MAC[h3]}", "${FG_MAC[h2]}"]): fails.append("SNAT traffic not from h3 then h2")
if not garp or {p[ARP].hwsrc for p in garp} != {"${FG_MAC[h1]}"}: fails.append("no gratuitous ARP from h1")
print("; ".join(fails) or "ok")
sys.exit(1 if fails else 0)
PY
out=$(/usr/bin/python3 "$E2E_TMP/check_ext.py" 2>&1) || fail "capture check: $out"
log "$(sed 's/^/    /' <<<"$out")"
pass
