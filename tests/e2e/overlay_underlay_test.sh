#!/usr/bin/env bash
# The overlay's underlay side of one dvrd, against the Linux kernel (docs/overlay.md):
#
#   namespace "ul" (the underlay)                        dvrd (one worker)
#     tap uplink 192.0.2.254/24  <------ tap ------->    port "up": tunnel IP 192.0.2.1/24
#     vx0 (kernel VXLAN, VNI 4242, remote 192.0.2.1)     remote host "linux" = 192.0.2.254
#       02:4c:00:00:00:50 10.0.1.50/24                   VM port plinux lives on "linux"
#   namespace "vm"
#     tap 02:aa:00:00:00:10 10.0.1.10/24  <-- tap -->    port "vm1": VM port pvm1, network nv
#
# Checks: dvrd answers ARP and ping for its tunnel IP on the uplink and nothing else (counted as
# underlay_arp_ignored / underlay_not_local); it resolves the underlay next hop of a remote host
# by ARP ("who-has 192.0.2.254 tell 192.0.2.1"), directly or through an underlay route; the VM
# and the kernel's VXLAN device talk to each other through dvrd's encapsulation (ping both ways,
# TCP transfers both ways, byte for byte; UDP 4789 with the VNI on the wire; the VXLAN counters
# move); and the overlay's configuration errors are refused with clear messages.
# Usage: overlay_underlay_test.sh [DVRD DVRCTL]
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init overlay_underlay "$@"
need_tool socat sha256sum ping arping tcpdump ss timeout

UL_IP=192.0.2.254      # the underlay namespace (and the remote host "linux")
UL_MAC=02:ee:00:00:00:fe  # its tap (the kernel side of dvrd's uplink would share dvrd's MAC)
TUNNEL_IP=192.0.2.1    # dvrd's tunnel IP
OTHER_IP=192.0.2.77    # on the underlay subnet, not dvrd's
FAR_IP=198.51.100.3    # a remote host beyond an underlay router (192.0.2.254)
VNI=4242
DVR_MAC=02:dd:00:00:00:01
LINUX_DVR_MAC=02:dd:00:00:00:fe
VM_MAC=02:aa:00:00:00:10
VM_IP=10.0.1.10
VX_MAC=02:4c:00:00:00:50
VX_IP=10.0.1.50

R=$(rand4)
t="ouup$$${R}"
TAP_UP=${t:0:15}
t="ouvm$$${R}"
TAP_VM=${t:0:15}
register_link "$TAP_UP"
register_link "$TAP_VM"

start_dvrd --host-id h1 --port "up=tap,iface=$TAP_UP" --port "vm1=tap,iface=$TAP_VM"

# On a failure, show what dvrd knows before lib.sh's trap stops it: the drops per port, the
# worker counters, the underlay, and the last packets the uplink capture saw.
E2E_DIAG_DONE=0
fail() {
  printf 'FAIL: %s\n' "$*"
  if [ $E2E_DIAG_DONE -eq 0 ] && [ -n "$DVRD_PID" ] && proc_alive "$DVRD_PID"; then
    E2E_DIAG_DONE=1
    log "--- dvrd state at the failure:"
    ctl --json stats 2>/dev/null | json_eval '"\n".join("%s: %s" % (p["name"], ", ".join(
      "%s=%s" % (r["reason"], r["packets"]) for r in p.get("drop_reasons", [])))
      for p in d.get("ports", []))' 2>&1 | sed 's/^/    /'
    ctl stats 2>&1 | awk '/^WORKER +LCORE/ { p = 1 } p && /^$/ { exit } p' | sed 's/^/    /'
    { ctl underlay show && ctl vm-port list && ctl neighbor show; } 2>&1 | sed 's/^/    /'
    local f
    for f in "$E2E_TMP"/*.txt; do
      [ -s "$f" ] || continue
      log "--- last lines of $(basename "$f"):"
      tail -n 12 "$f" | sed 's/^/    /'
    done
  fi
  exit 1
}

# step ARGS...: dvrctl ARGS..., failing the test with what dvrctl said when it is refused.
step() {
  local out
  out=$(ctl "$@" 2>&1) || fail "dvrctl $* failed: $out"
}

# refused STATUS NEEDLE ARGS...: dvrctl ARGS... must exit with STATUS and say NEEDLE on stderr.
refused() {
  local want=$1 needle=$2 rc
  shift 2
  ctl "$@" >"$E2E_TMP/refused.out" 2>"$E2E_TMP/refused.err"
  rc=$?
  [ $rc -eq "$want" ] ||
    fail "dvrctl $*: exit status $rc, expected $want (stderr: $(cat "$E2E_TMP/refused.err"))"
  expect_contains "dvrctl $* (exit $rc)" "$(cat "$E2E_TMP/refused.err")" "$needle"
}

# underlay EXPRESSION: json_eval over a fresh `dvrctl --json underlay show`. Helpers in the
# expression: nb(d, IP) (the neighbour entry or {}), rh(d, HOST) (the remote host path or {}).
underlay() {
  ctl --json underlay show >"$E2E_TMP/ul.json" 2>"$E2E_TMP/ul.err" ||
    fail "dvrctl --json underlay show failed: $(cat "$E2E_TMP/ul.err")"
  jq_file "$E2E_TMP/ul.json" "$(
    cat <<EOF
(lambda nb, rh: $1)(
  lambda d, ip: next((n for n in d.get("neighbors", []) if n["ip"] == ip), {}),
  lambda d, h: next((r for r in d.get("remote_hosts", []) if r["host_id"] == h), {}))
EOF
  )"
}
# shellcheck disable=SC2317  # called through wait_for
underlay_is() { [ "$(underlay "$1")" = "$2" ]; }

# Counters. cstat EXPR: json_eval EXPR over a fresh `dvrctl --json stats`.
cstat() {
  stats_snapshot "$E2E_TMP/now.json"
  jq_file "$E2E_TMP/now.json" "$1"
}
# shellcheck disable=SC2317  # called through wait_for
stat_above() { [ "$(cstat "$1")" -gt "$2" ]; }
# expect_rises WHAT EXPR BEFORE: the counter goes above BEFORE within 10 s.
expect_rises() {
  wait_for 10 stat_above "$2" "$3" || fail "$1: still $(cstat "$2"), expected > $3"
  log "    ok: $1 rose from $3 to $(cstat "$2")"
}

# capture NAME FILTER...: tcpdump -nn -v on the uplink tap in the underlay namespace, writing
# text to $E2E_TMP/NAME.txt; waits until it listens. Sets CAP_PID.
capture() {
  local name=$1
  shift
  ip netns exec "$UL" tcpdump -l -nn -v -i "$TAP_UP" "$@" >"$E2E_TMP/$name.txt" \
    2>"$E2E_TMP/$name.err" &
  CAP_PID=$!
  register_pid "$CAP_PID"
  wait_for 10 grep -q "listening on" "$E2E_TMP/$name.err" ||
    fail "tcpdump on $TAP_UP did not start: $(cat "$E2E_TMP/$name.err")"
}
# stop_capture: stops the capture (tcpdump flushes its line-buffered output on SIGTERM).
stop_capture() { kill_pid "$CAP_PID"; }

# ----------------------------------------------------------------------------------------------
check "the overlay's configuration errors are refused with clear messages"
for t in "$TAP_UP" "$TAP_VM"; do
  wait_for 10 ip link show dev "$t" || fail "tap interface $t did not appear"
done
refused 1 "tunnel IP" host set --uplink up
refused 1 "DVR MAC" host set --uplink up --tunnel-ip "$TUNNEL_IP/24"
refused 2 "1 to 32" host set --uplink up --tunnel-ip "$TUNNEL_IP/33" --dvr-mac "$DVR_MAC"
refused 1 "not another address inside the uplink's subnet" host set --uplink up \
  --tunnel-ip "$TUNNEL_IP/24" --dvr-mac "$DVR_MAC" --underlay-route 198.51.100.0/24=203.0.113.1
expect_eq "underlay show after the refusals" "$(ctl underlay show 2>&1)" "no overlay configured"
refused 1 "DVR MAC" remote-host add linux --tunnel-ip "$UL_IP" --dvr-mac 02:dd:00:00:zz
refused 1 "DVR MAC" remote-host add linux --tunnel-ip "$UL_IP" --dvr-mac ff:ff:ff:ff:ff:ff
refused 1 "tunnel IP" remote-host add linux --tunnel-ip 192.0.2.300 --dvr-mac "$LINUX_DVR_MAC"
refused 2 "missing --dvr-mac" remote-host add linux --tunnel-ip "$UL_IP"
expect_eq "remote hosts after the refusals" "$(ctl --json remote-host list | json_eval 'len(d["objects"])')" 0

check "the uplink tap goes into the underlay namespace ($UL_IP/24), the VM tap into a VM namespace"
new_netns UL ul
new_netns VM vm
{ ip link set dev "$TAP_UP" netns "$UL" &&
  ip netns exec "$UL" sysctl -qw "net.ipv6.conf.$TAP_UP.disable_ipv6=1" &&
  ip -n "$UL" link set dev "$TAP_UP" down &&
  ip -n "$UL" link set dev "$TAP_UP" address "$UL_MAC" &&
  ip -n "$UL" addr add "$UL_IP/24" dev "$TAP_UP" &&
  ip -n "$UL" link set dev "$TAP_UP" up &&
  ip link set dev "$TAP_VM" netns "$VM" &&
  ip netns exec "$VM" sysctl -qw "net.ipv6.conf.$TAP_VM.disable_ipv6=1" &&
  ip -n "$VM" link set dev "$TAP_VM" down &&
  ip -n "$VM" link set dev "$TAP_VM" address "$VM_MAC" mtu 1450 &&
  ip -n "$VM" addr add "$VM_IP/24" dev "$TAP_VM" &&
  ip -n "$VM" link set dev "$TAP_VM" up; } 2>"$E2E_TMP/setup.err" ||
  fail "setting up the namespaces: $(cat "$E2E_TMP/setup.err")"
log "    ok: $UL/$TAP_UP $UL_MAC $UL_IP/24; $VM/$TAP_VM $VM_MAC $VM_IP/24 (MTU 1450)"

check "host set: uplink 'up', tunnel IP $TUNNEL_IP/24, DVR MAC $DVR_MAC"
step host set --uplink up --tunnel-ip "$TUNNEL_IP/24" --dvr-mac "$DVR_MAC"
UP_MAC=$(underlay 'd["uplink_mac"]')
expect_eq "underlay: uplink" "$(underlay '[d["uplink_port"], d["uplink_present"]]')" "up True"
expect_eq "underlay: tunnel IP" "$(underlay 'd["tunnel_ip"]')" "$TUNNEL_IP/24"
expect_eq "underlay: VXLAN port" "$(underlay 'd["vxlan_udp_port"]')" 4789
expect_eq "underlay: overlay MTU (uplink MTU - 50)" "$(underlay 'd["overlay_mtu"]')" \
  "$(($(underlay 'd["uplink_mtu"]') - 50))"
expect_eq "dvrd's uplink MAC (port list)" \
  "$(ctl --json port list | json_eval 'port_info(d,"up")["mac"].lower()')" "$UP_MAC"
[ "$UP_MAC" != "$UL_MAC" ] || fail "dvrd's uplink and the underlay's tap share the MAC $UL_MAC"
ctl underlay show | sed 's/^/    /'

check "dvrd answers ping and ARP for its tunnel IP from the underlay, with the uplink's MAC"
out=$(ip netns exec "$UL" ping -c 3 -i 0.2 -W 5 "$TUNNEL_IP" 2>&1) ||
  fail "ping $TUNNEL_IP from the underlay: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_contains "ping $TUNNEL_IP" "$out" "3 packets transmitted, 3 received"
expect_eq "the underlay's neighbour entry for $TUNNEL_IP" \
  "$(ip -n "$UL" neigh show "$TUNNEL_IP" dev "$TAP_UP" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2)" \
  "$UP_MAC"
out=$(timeout 20 ip netns exec "$UL" arping -i "$TAP_UP" -c 3 -C 2 -w 10 -r "$TUNNEL_IP" 2>&1) ||
  fail "arping $TUNNEL_IP from the underlay got no answer: $out"
expect_eq "arping $TUNNEL_IP answers (MAC)" "$(sort -u <<<"$out" | tr '[:upper:]' '[:lower:]')" "$UP_MAC"

check "dvrd ignores ARP and IP for other underlay addresses ($OTHER_IP)"
before=$(cstat 'pdrop(d,"up","underlay_arp_ignored")')
out=$(timeout 20 ip netns exec "$UL" arping -i "$TAP_UP" -c 2 -w 3 "$OTHER_IP" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "arping $OTHER_IP was answered: $out"
expect_contains "arping $OTHER_IP" "$out" "2 packets transmitted, 0 packets received"
expect_rises "underlay_arp_ignored on up" 'pdrop(d,"up","underlay_arp_ignored")' "$before"
# Without an answer the kernel would never send the echo: point it at dvrd's MAC by hand.
ip -n "$UL" neigh replace "$OTHER_IP" lladdr "$UP_MAC" dev "$TAP_UP" nud permanent ||
  fail "cannot add a neighbour entry for $OTHER_IP in $UL"
before=$(cstat 'pdrop(d,"up","underlay_not_local")')
out=$(ip netns exec "$UL" ping -c 2 -i 0.2 -W 1 "$OTHER_IP" 2>&1)
expect_contains "ping $OTHER_IP" "$out" "2 packets transmitted, 0 received"
expect_rises "underlay_not_local on up" 'pdrop(d,"up","underlay_not_local")' "$before"

check "remote host 'linux' ($UL_IP): dvrd ARPs for it on the uplink and resolves it"
capture arp arp
step remote-host add linux --tunnel-ip "$UL_IP" --dvr-mac "$LINUX_DVR_MAC"
expect_eq "remote-host list" "$(ctl remote-host list | awk 'NR > 1 { print $1, $2, $3 }')" \
  "linux $UL_IP $LINUX_DVR_MAC"
wait_for 15 underlay_is "nb(d,\"$UL_IP\").get(\"state\")" reachable ||
  fail "dvrd did not resolve $UL_IP within 15 s: $(cat "$E2E_TMP/ul.json")"
expect_eq "underlay neighbour $UL_IP" "$(underlay "[nb(d,'$UL_IP')[k] for k in ('state','mac')]")" \
  "reachable $UL_MAC"
expect_eq "path to 'linux'" \
  "$(underlay "[rh(d,'linux').get(k) for k in ('nexthop','nexthop_mac','resolved')]")" \
  "$UL_IP $UL_MAC True"
stop_capture
sed 's/^/    /' "$E2E_TMP/arp.txt" | head -n 4
expect_contains "tcpdump on the uplink" "$(cat "$E2E_TMP/arp.txt")" \
  "Request who-has $UL_IP tell $TUNNEL_IP"

check "remote host 'far' ($FAR_IP) is reached through the underlay route 198.51.100.0/24=$UL_IP"
step remote-host add far --tunnel-ip "$FAR_IP" --dvr-mac 02:dd:00:00:00:03
expect_eq "path to 'far' without a route" \
  "$(underlay "[rh(d,'far').get(k) for k in ('tunnel_ip','nexthop','resolved')]")" "$FAR_IP  False"
step host set --underlay-route "198.51.100.0/24=$UL_IP"
wait_for 10 underlay_is "rh(d,'far').get('resolved')" true ||
  fail "'far' was not resolved through $UL_IP within 10 s: $(cat "$E2E_TMP/ul.json")"
expect_eq "path to 'far'" \
  "$(underlay "[rh(d,'far').get(k) for k in ('tunnel_ip','nexthop','nexthop_mac','resolved')]")" \
  "$FAR_IP $UL_IP $UL_MAC True"
expect_eq "host set kept the uplink and tunnel IP" "$(underlay '[d["uplink_port"], d["tunnel_ip"]]')" \
  "up $TUNNEL_IP/24"
ctl underlay show | sed 's/^/    /'

# ----------------------------------------------------------------------------------------------
check "Linux VXLAN: vx0 (VNI $VNI, $VX_IP) in the underlay; network nv with VM pvm1 here, plinux on 'linux'"
# vx0 has no ARP responder: its ARP for the VM crosses the overlay, and dvrd answers it from its
# neighbour table, back through VXLAN (checked below); the VM's own ARP for $VX_IP is answered
# on its host.
{ ip -n "$UL" link add vx0 type vxlan id "$VNI" local "$UL_IP" remote "$TUNNEL_IP" dstport 4789 \
  nolearning &&
  ip -n "$UL" link set dev vx0 address "$VX_MAC" mtu 1450 &&
  ip -n "$UL" addr add "$VX_IP/24" dev vx0 &&
  ip -n "$UL" link set dev vx0 up; } 2>"$E2E_TMP/vx.err" ||
  fail "creating vx0: $(cat "$E2E_TMP/vx.err")"
step network add nv --segmentation-id "$VNI"
step subnet add snv --network nv --cidr 10.0.1.0/24
step vm-port add pvm1 --network nv --mac "$VM_MAC" --ip "$VM_IP" --port vm1
refused 1 "unknown remote host" vm-port add plinux --network nv --mac "$VX_MAC" --ip "$VX_IP" \
  --host nosuch
refused 2 "not both" vm-port add plinux --network nv --mac "$VX_MAC" --ip "$VX_IP" \
  --host linux --port vm1
step vm-port add plinux --network nv --mac "$VX_MAC" --ip "$VX_IP" --host linux
expect_eq "network list: FLOOD" "$(ctl network list | awk '$1 == "nv" { print $NF }')" all
log "    ok: vx0 $VX_MAC $VX_IP/24 up; nv, snv, pvm1 (vm1), plinux (host linux) configured"

stats_snapshot "$E2E_TMP/before.json"
capture vxlan udp port 4789

check "ping both ways between the VM ($VM_IP) and vx0 ($VX_IP)"
out=$(ip netns exec "$VM" ping -c 3 -i 0.2 -W 5 "$VX_IP" 2>&1) ||
  fail "ping $VX_IP from the VM: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_contains "ping VM -> vx0" "$out" "3 packets transmitted, 3 received"
out=$(ip netns exec "$UL" ping -c 3 -i 0.2 -W 5 "$VM_IP" 2>&1) ||
  fail "ping $VM_IP from the underlay's vx0: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_contains "ping vx0 -> VM" "$out" "3 packets transmitted, 3 received"
# vx0 resolved the VM over the overlay: dvrd answered its ARP (inside VXLAN) for the VM.
expect_contains "vx0's neighbour entry for the VM" \
  "$(ip -n "$UL" neigh show "$VM_IP" dev vx0)" "lladdr $VM_MAC"
out=$(ip netns exec "$VM" ping -c 2 -i 0.2 -W 5 -s 1422 -M "do" "$VX_IP" 2>&1) ||
  fail "a 1450-byte ping from the VM: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
expect_contains "1450-byte ping VM -> vx0 (the overlay MTU)" "$out" "2 packets transmitted, 2 received"

check "TCP both ways through the overlay: 1 MiB each, byte for byte"
SIZE=$((1024 * 1024))
head -c "$SIZE" /dev/urandom >"$E2E_TMP/in.bin" || fail "cannot write the test data"
SUM_IN=$(sha256sum <"$E2E_TMP/in.bin" | cut -d' ' -f1)
# transfer FROM_NS TO_NS TO_IP WHAT
transfer() {
  local from=$1 to=$2 ip=$3 what=$4 out="$E2E_TMP/out.bin" lpid
  rm -f "$out"
  ip netns exec "$to" socat -u "TCP-LISTEN:5001,bind=$ip,reuseaddr" "OPEN:$out,creat,trunc" \
    2>"$E2E_TMP/listen.err" &
  lpid=$!
  register_pid "$lpid"
  wait_for 10 sh -c "ip netns exec '$to' ss -ltn | grep -q '$ip:5001 '" ||
    fail "the listener on $ip:5001 did not start"
  timeout 60 ip netns exec "$from" socat -u "OPEN:$E2E_TMP/in.bin" \
    "TCP:$ip:5001,connect-timeout=10" 2>"$E2E_TMP/transfer.err" ||
    fail "the transfer $what failed: $(cat "$E2E_TMP/transfer.err")"
  wait_exit "$lpid" 30 || fail "the receiver on $ip:5001 did not finish within 30 s"
  [ -e "$out" ] || fail "the receiver on $ip:5001 wrote nothing: $(cat "$E2E_TMP/listen.err")"
  expect_eq "1 MiB $what: size" "$(stat -c %s "$out")" "$SIZE"
  expect_eq "1 MiB $what: sha256" "$(sha256sum <"$out" | cut -d' ' -f1)" "$SUM_IN"
}
transfer "$VM" "$UL" "$VX_IP" "VM -> vx0"
transfer "$UL" "$VM" "$VM_IP" "vx0 -> VM"

check "on the wire: VXLAN over UDP 4789 with VNI $VNI, both directions"
stop_capture
grep -m 2 -A1 "VXLAN" "$E2E_TMP/vxlan.txt" | sed 's/^/    /'
expect_contains "tcpdump on the uplink" "$(cat "$E2E_TMP/vxlan.txt")" \
  "VXLAN, flags [I] (0x08), vni $VNI"
n_out=$(grep -c "$TUNNEL_IP\.[0-9]* > $UL_IP\.4789: VXLAN" "$E2E_TMP/vxlan.txt")
n_in=$(grep -c "$UL_IP\.[0-9]* > $TUNNEL_IP\.4789: VXLAN" "$E2E_TMP/vxlan.txt")
expect_gt "VXLAN packets dvrd sent ($TUNNEL_IP -> $UL_IP:4789)" "$n_out" 0
expect_gt "VXLAN packets Linux sent ($UL_IP -> $TUNNEL_IP:4789)" "$n_in" 0

check "dvrd's VXLAN counters"
stats_snapshot "$E2E_TMP/after.json"
A="$E2E_TMP/after.json"
B="$E2E_TMP/before.json"
enc=$(($(jq_file "$A" 'wsum(d,"vxlan_encapsulated")') - $(jq_file "$B" 'wsum(d,"vxlan_encapsulated")')))
dec=$(($(jq_file "$A" 'wsum(d,"vxlan_decapsulated")') - $(jq_file "$B" 'wsum(d,"vxlan_decapsulated")')))
# 1 MiB of TCP payload each way is over 700 segments of at most 1410 bytes (MSS at MTU 1450),
# plus the other transfer's acknowledgements and the pings.
expect_gt "vxlan_encapsulated during the traffic" "$enc" 700
expect_gt "vxlan_decapsulated during the traffic" "$dec" 700
expect_eq "VXLAN drops on up" \
  "$(jq_file "$A" 'sum(pdrop(d,"up",r) for r in ("vxlan_malformed","vxlan_unknown_vtep","vxlan_unknown_vni","vxlan_not_local","underlay_unresolved","overlay_mtu_exceeded"))')" 0
ctl stats | awk '/^WORKER +LCORE/ { p = 1 } p && /^$/ { exit } p' | sed 's/^/    /'

# ----------------------------------------------------------------------------------------------
check "a remote host that a VM port lives on is only removed with --cascade"
refused 1 "conflict" remote-host remove linux
expect_eq "VM ports on 'linux' after the refusal" \
  "$(ctl --json vm-port list | json_eval '[o["vm_port"]["id"] for o in d["objects"] if o["vm_port"]["host_id"] == "linux"]')" \
  plinux
step remote-host remove linux --cascade
expect_eq "VM ports after the cascade" \
  "$(ctl --json vm-port list | json_eval 'sorted(o["vm_port"]["id"] for o in d["objects"])')" pvm1
expect_eq "remote hosts after the cascade" "$(ctl remote-host list | awk 'NR > 1 { print $1 }')" far
step remote-host remove linux --missing-ok
step host set --no-overlay
expect_eq "underlay show after --no-overlay" "$(ctl underlay show 2>&1)" "no overlay configured"

check "dvrd shuts down cleanly"
stop_dvrd
expect_eq "dvrd exit status" "$DVRD_STATUS" 0
pass
