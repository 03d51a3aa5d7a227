#!/usr/bin/env bash
# The two-host part of the demo (scripts/demo.sh --hosts 2 runs it after building): two dvrd
# "hosts" joined by a VXLAN overlay across an underlay namespace (a bridge), as Neutron DVR runs
# on two hypervisors. Tenant A's router ra joins 10.0.1.0/24 and 10.0.2.0/24:
#
#   h1 (192.0.2.1): a1 10.0.1.11            h2 (192.0.2.2): a2 10.0.1.12, a3 10.0.2.13
#
# a1 pings a2 (same subnet, switched across the overlay) and a3 (another subnet: routed on h1,
# then carried to h2), sends 20 MB to a3 over TCP and checks its sha256; a capture on the
# underlay shows the VNIs and h1's DVR MAC on routed frames; dvrctl shows each host's underlay.
#
#   bash scripts/demo_multihost.sh DVRD DVRCTL      (as root)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
DVRD=${1:?usage: demo_multihost.sh DVRD DVRCTL}
DVRCTL=${2:?usage: demo_multihost.sh DVRD DVRCTL}
# shellcheck source=scripts/lib/multihost.sh
. "$REPO/scripts/lib/multihost.sh"
MH_HOSTS=(h1 h2)
MH_VMS=(a1 a2 a3)
MH_VM_HOST[a3]=h2

say() { printf '\n==> %s\n' "$*"; }
die() {
  printf '\ndemo: FAILED: %s\n' "$*" >&2
  exit 1
}
indent() { sed 's/^/    /'; }
[ "$(id -u)" -eq 0 ] || die "run me as root"

SUFFIX="$$"
WORK=$(mktemp -d /tmp/dvrd-demo2.XXXXXX) || die "mktemp failed"
FABRIC="dvrdemo-fabric-$SUFFIX"
declare -A SOCK PID UPLINK TAP NS
for h in "${MH_HOSTS[@]}"; do
  SOCK[$h]="$WORK/$h.sock"
  UPLINK[$h]="dmo${h}u$SUFFIX"
  UPLINK[$h]=${UPLINK[$h]:0:15}
done
for vm in "${MH_VMS[@]}"; do
  TAP[$vm]="dmo${vm}$SUFFIX"
  TAP[$vm]=${TAP[$vm]:0:15}
  NS[$vm]="dvrdemo-$vm-$SUFFIX"
done
HELPERS=()

alive() {
  local stat
  [ -n "$1" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null) && [ -n "$stat" ] &&
    [[ ! $stat =~ ^[0-9]+\ \(.*\)\ Z ]]
}
stop_pid() {
  alive "$1" || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 100); do alive "$1" || break; sleep 0.2; done
  alive "$1" && kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  local rc=$? p ns t
  trap - EXIT INT TERM
  say "Cleaning up"
  for p in "${HELPERS[@]}"; do stop_pid "$p"; done
  for h in "${MH_HOSTS[@]}"; do
    [ -n "${PID[$h]:-}" ] || continue
    stop_pid "${PID[$h]}" && echo "    dvrd $h stopped"
    [ $rc -ne 0 ] && [ -s "$WORK/$h.log" ] && tail -n 10 "$WORK/$h.log" | indent
  done
  for ns in "${NS[@]}" "$FABRIC"; do
    ip netns pids "$ns" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null && echo "    removed namespace $ns"
  done
  for t in "${TAP[@]}" "${UPLINK[@]}"; do
    ip link show dev "$t" >/dev/null 2>&1 && ip link del dev "$t" 2>/dev/null
  done
  rm -rf "$WORK"
  for h in "${MH_HOSTS[@]}"; do rm -rf "/var/run/dpdk/dvrdemo2_${h}_$SUFFIX"; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hctl() {
  local h=$1
  shift
  "$DVRCTL" --socket "${SOCK[$h]}" "$@"
}
vmx() {
  local vm=$1
  shift
  ip netns exec "${NS[$vm]}" "$@"
}

say "Starting two dvrd hosts (development mode, one worker each), each with a tap uplink"
for h in "${MH_HOSTS[@]}"; do
  args=(--host-id "$h" --port "up=tap,iface=${UPLINK[$h]}")
  for vm in "${MH_VMS[@]}"; do
    [ "${MH_VM_HOST[$vm]}" = "$h" ] && args+=(--port "$vm=tap,iface=${TAP[$vm]}")
  done
  echo "    $h: dvrd --dev --socket ${SOCK[$h]} ${args[*]}"
  "$DVRD" --dev --socket "${SOCK[$h]}" "${args[@]}" -- -l 0,1 --file-prefix "dvrdemo2_${h}_$SUFFIX" \
    --log-level=lib.eal:warning --no-telemetry </dev/null >"$WORK/$h.log" 2>&1 &
  PID[$h]=$!
done
for h in "${MH_HOSTS[@]}"; do
  for _ in $(seq 1 150); do hctl "$h" --timeout 2 version >/dev/null 2>&1 && break; sleep 0.2; done
  hctl "$h" --timeout 2 version >/dev/null 2>&1 || die "dvrd $h did not start"
done

say "The underlay: a namespace with a bridge (192.0.2.254/24); both uplinks plugged into it"
ip netns add "$FABRIC" || die "ip netns add failed"
mh_setup_fabric "$FABRIC" || die "setting up the fabric failed"
for h in "${MH_HOSTS[@]}"; do
  for _ in $(seq 1 50); do ip link show dev "${UPLINK[$h]}" >/dev/null 2>&1 && break; sleep 0.2; done
  mh_attach_uplink "$FABRIC" "$h" "${UPLINK[$h]}" || die "attaching $h's uplink failed"
done
say "Three VMs: a1 on h1; a2 and a3 on h2 (MTU 1450: what the overlay carries)"
for vm in "${MH_VMS[@]}"; do
  for _ in $(seq 1 50); do ip link show dev "${TAP[$vm]}" >/dev/null 2>&1 && break; sleep 0.2; done
  ip netns add "${NS[$vm]}" || die "ip netns add failed"
  mh_setup_vm "$vm" "${NS[$vm]}" "${TAP[$vm]}" || die "setting up VM $vm failed"
  printf '    %s on %s: %s/24 %s\n' "$vm" "${MH_VM_HOST[$vm]}" "${MH_VM_IP[$vm]}" "${MH_VM_MAC[$vm]}"
done

say "Configuring both hosts (what the management plane sends each one)"
ip netns exec "$FABRIC" tcpdump -i br0 -n -U -w "$WORK/underlay.pcap" >/dev/null 2>&1 &
HELPERS+=($!)
for h in "${MH_HOSTS[@]}"; do
  MH_ECHO=1 mh_configure "$h" >"$WORK/config-$h.txt" || die "configuring $h failed"
  head -n 4 "$WORK/config-$h.txt"
  echo "    ... and $(($(wc -l <"$WORK/config-$h.txt") - 4)) more (routers, networks, subnets, interfaces, VM ports)"
done
for _ in $(seq 1 100); do
  hctl h1 --json underlay show 2>/dev/null | grep -q '"resolved": true' && break
  sleep 0.2
done
say "dvrctl underlay show (h1): its uplink, the ARP it did for h2, the path to h2"
hctl h1 underlay show | indent

demo_ping() {
  local out
  out=$(vmx "$1" ping -c 3 -i 0.2 -W 10 "$2" 2>&1)
  grep -E 'bytes from|packets transmitted' <<<"$out" | indent
  [[ $out == *"3 packets transmitted, 3 received"* ]] || die "ping from $1 to $2 failed"
}
say "a1 (h1) pings a2 (h2) in the same subnet: switched, carried in VXLAN VNI 101"
demo_ping a1 10.0.1.12
say "a1 (h1) pings a3 (h2) in the other subnet: routed on h1 (ttl=63), then VNI 102 to h2"
demo_ping a1 10.0.2.13

SIZE=$((20 * 1000 * 1000))
say "A 20 MB TCP transfer from a1 (h1) to a3 (h2), routed and encapsulated by dvrd"
head -c "$SIZE" /dev/urandom >"$WORK/in.bin"
vmx a3 socat -u TCP-LISTEN:5001,reuseaddr "OPEN:$WORK/out.bin,creat,trunc" &
SERVER=$!
HELPERS+=("$SERVER")
for _ in $(seq 1 50); do vmx a3 ss -ltn | grep -q ':5001' && break; sleep 0.2; done
timeout 60 ip netns exec "${NS[a1]}" socat -u "OPEN:$WORK/in.bin" TCP:10.0.2.13:5001 ||
  die "the TCP transfer failed"
for _ in $(seq 1 100); do alive "$SERVER" || break; sleep 0.2; done
SUM_IN=$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)
SUM_OUT=$(sha256sum <"$WORK/out.bin" | cut -d' ' -f1)
echo "    sent     sha256 $SUM_IN"
echo "    received sha256 $SUM_OUT"
[ "$SUM_IN" = "$SUM_OUT" ] || die "the received data differs"

say "On the underlay (tcpdump on the bridge): VXLAN with the VNI; routed frames from h1's DVR MAC"
sleep 0.5
decoded=$(tcpdump -nn -e -r "$WORK/underlay.pcap" 'udp port 4789' 2>/dev/null)
grep -A1 'vni 102' <<<"$decoded" | grep -m 2 -B1 '02:d0:00:00:00:01 >' | indent
grep -q '02:d0:00:00:00:01 > 02:aa:00:00:00:03' <<<"$decoded" ||
  die "no routed frame from h1's DVR MAC to a3 on the underlay"
grep -q 'ARP' <<<"$decoded" && die "ARP crossed the underlay"
echo "    (no ARP inside VXLAN: dvrd answers every VM's ARP on its own host)"

say "dvrctl stats (h1): the worker's VXLAN counters"
hctl h1 stats | awk '/^WORKER/ { p = 1 } p && /^$/ { exit } p' | indent
say "Success: two hosts, one distributed router; traffic routed on the source host and carried over VXLAN"
exit 0
