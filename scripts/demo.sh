#!/usr/bin/env bash
# dvrd in one command (as root): installs the dependencies, builds, and shows east-west
# distributed routing between two tenants that use the SAME addresses.
#
#   bash scripts/demo.sh             # one host, two tenants (below)
#   bash scripts/demo.sh --hosts 2   # two hosts joined by the VXLAN overlay
#                                    # (scripts/demo_multihost.sh)
#
# dvrd runs in development mode (no hugepages, no NIC) with four tap ports; each tap goes into
# its own network namespace, a "VM". Tenant A and tenant B each have a router joining
# 10.0.1.0/24 and 10.0.2.0/24 (scripts/lib/topology.sh has the whole picture):
#
#   tenant A:  a1 10.0.1.10 --- router ra --- a2 10.0.2.20
#   tenant B:  b1 10.0.1.10 --- router rb --- b2 10.0.2.20
#
# The demo pings within each tenant, sends 20 MB over TCP through dvrd and checks its sha256,
# runs a traceroute (one hop: the gateway), shows that tenant B cannot reach tenant A, prints
# dvrd's view (routers, route table, neighbors, counters) and removes everything it created.
#
# Exit status: 0 when every step worked, non-zero (with the reason) otherwise.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
BUILD="$REPO/build"

say() { printf '\n==> %s\n' "$*"; }
die() {
  printf '\ndemo: FAILED: %s\n' "$*" >&2
  exit 1
}
indent() { sed 's/^/    /'; }

HOSTS=1
case "${1:-}" in
  "") ;;
  --hosts) HOSTS=${2:-} ;;
  --hosts=*) HOSTS=${1#--hosts=} ;;
  -h | --help)
    sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument '$1' (usage: demo.sh [--hosts 1|2])" ;;
esac
[ "$HOSTS" = 1 ] || [ "$HOSTS" = 2 ] || die "--hosts takes 1 or 2"

[ "$(id -u)" -eq 0 ] || die "run me as root: dvrd creates tap interfaces and the demo creates network namespaces"

# ----------------------------------------------------------------------------------------------
say "Installing dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh || die "installing the dependencies failed"

say "Building dvrd and dvrctl in $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" || die "meson setup failed"
fi
# Only the two programs the demo runs: a broken test elsewhere in the tree must not stop it.
ninja -C "$BUILD" control/dvrd control/dvrctl/dvrctl || die "the build failed"
DVRD="$BUILD/control/dvrd"
DVRCTL="$BUILD/control/dvrctl/dvrctl"
if [ ! -x "$DVRD" ] || [ ! -x "$DVRCTL" ]; then die "the build did not produce $DVRD and $DVRCTL"; fi
[ "$HOSTS" = 2 ] && exec bash "$REPO/scripts/demo_multihost.sh" "$DVRD" "$DVRCTL"
# shellcheck source=scripts/lib/topology.sh
. "$REPO/scripts/lib/topology.sh"

# ----------------------------------------------------------------------------------------------
# Everything below is named with a per-run suffix and removed by cleanup(), even on failure.
SUFFIX="$$"
declare -A TAP NS
for vm in "${TOPO_VMS[@]}"; do
  t="dmo${vm}${SUFFIX}"
  TAP[$vm]=${t:0:15}
  NS[$vm]="dvrdemo-${vm}-${SUFFIX}"
done
PREFIX="dvrdemo_$SUFFIX"
WORK=$(mktemp -d /tmp/dvrd-demo.XXXXXX) || die "mktemp failed"
SOCK="$WORK/dvrd.sock"
LOG="$WORK/dvrd.log"
DVRD_PID=""
PIDS=()  # helper processes (socat listeners), stopped by pid

# True while the process exists and is not a zombie. The stat file is read once: a process that
# exits between a check and a read must count as gone, not as alive.
alive() {
  local stat
  [ -n "$1" ] && stat=$(cat "/proc/$1/stat" 2>/dev/null) && [ -n "$stat" ] &&
    [[ ! $stat =~ ^[0-9]+\ \(.*\)\ Z ]]
}

cleanup() {
  local rc=$? pid ns
  trap - EXIT INT TERM
  say "Cleaning up"
  for pid in "${PIDS[@]}"; do
    alive "$pid" && kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if alive "$DVRD_PID"; then
    kill -TERM "$DVRD_PID" 2>/dev/null
    for _ in $(seq 1 100); do alive "$DVRD_PID" || break; sleep 0.2; done
    if alive "$DVRD_PID"; then
      echo "    dvrd did not stop within 20 s; killing it"
      kill -KILL "$DVRD_PID" 2>/dev/null
    fi
    wait "$DVRD_PID" 2>/dev/null
    echo "    dvrd stopped"
  fi
  if [ $rc -ne 0 ] && [ -s "$LOG" ]; then
    echo "    dvrd's log:"
    tail -n 20 "$LOG" | indent | indent
  fi
  for ns in "${NS[@]}"; do
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null && echo "    removed namespace $ns"
  done
  for t in "${TAP[@]}"; do  # a tap still in the root namespace (a failure before the move)
    ip link show dev "$t" >/dev/null 2>&1 && ip link del dev "$t" 2>/dev/null
  done
  rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ctl() { "$DVRCTL" --socket "$SOCK" "$@"; }
vmx() {  # vmx VM COMMAND...: runs COMMAND inside the VM's namespace
  local vm=$1
  shift
  ip netns exec "${NS[$vm]}" "$@"
}
# The replies are normally back within a millisecond; the generous wait only matters on a
# heavily loaded machine, where dvrd's worker may not be scheduled for a second or more.
WAIT=10

# ----------------------------------------------------------------------------------------------
say "Starting dvrd (development mode, one worker) with four tap ports: a1 a2 b1 b2"
mapfile -t PORT_ARGS < <(topo_port_args "${TAP[a1]}" "${TAP[a2]}" "${TAP[b1]}" "${TAP[b2]}")
echo "    $DVRD --dev --socket $SOCK ${PORT_ARGS[*]} -- -l 0,1 --file-prefix $PREFIX"
"$DVRD" --dev --socket "$SOCK" "${PORT_ARGS[@]}" \
  -- -l 0,1 --file-prefix "$PREFIX" --log-level=lib.eal:warning --no-telemetry \
  </dev/null >"$LOG" 2>&1 &
DVRD_PID=$!
ready=0
for _ in $(seq 1 150); do  # 30 s at most
  if ctl --timeout 2 version >/dev/null 2>&1; then
    ready=1
    break
  fi
  alive "$DVRD_PID" || die "dvrd exited during startup (log: $(tail -n 5 "$LOG" | tr '\n' ' '))"
  sleep 0.2
done
[ $ready -eq 1 ] || die "dvrd did not answer on $SOCK within 30 s"
ctl version | indent
for vm in "${TOPO_VMS[@]}"; do
  for _ in $(seq 1 50); do ip link show dev "${TAP[$vm]}" >/dev/null 2>&1 && break; sleep 0.2; done
  ip link show dev "${TAP[$vm]}" >/dev/null 2>&1 || die "dvrd did not create the tap interface ${TAP[$vm]}"
done

say "Four VMs: one network namespace per tap, with the VM port's MAC, address and default route"
for vm in "${TOPO_VMS[@]}"; do
  ip netns add "${NS[$vm]}" || die "ip netns add ${NS[$vm]} failed"
  topo_setup_vm "$vm" "${NS[$vm]}" "${TAP[$vm]}" || die "setting up VM $vm failed"
  tenant=${vm:0:1}
  printf '    %s  tenant %s  %s  %s  %s/24 via %s\n' "$vm" "${tenant^^}" "${NS[$vm]}" \
    "${TOPO_MAC[$vm]}" "${TOPO_IP[$vm]}" "${TOPO_GW[$vm]}"
done

say "Configuring both tenants with dvrctl: the same CIDRs, one distributed router each"
TOPO_ECHO=1 topo_configure_model || die "configuring the tenants failed"

# ----------------------------------------------------------------------------------------------
demo_ping() {  # VM DEST: three pings, shown; fails the demo unless all three are answered
  local out rc
  out=$(vmx "$1" ping -c 3 -i 0.2 -W "$WAIT" "$2" 2>&1)
  rc=$?
  grep -E 'bytes from|From|packets transmitted' <<<"$out" | indent
  [ $rc -eq 0 ] && [[ $out == *"3 packets transmitted, 3 received"* ]] ||
    die "ping from $1 (${TOPO_IP[$1]}) to $2 did not get all its replies"
}
say "Tenant A: a1 (10.0.1.10) pings a2 (10.0.2.20) across router ra (ttl=63: one routed hop)"
demo_ping a1 10.0.2.20
say "Tenant A: a1 pings its gateway 10.0.1.1 and router ra's other interface 10.0.2.1"
demo_ping a1 10.0.1.1
demo_ping a1 10.0.2.1
say "Tenant B: b1 (also 10.0.1.10) pings b2 (also 10.0.2.20) across router rb"
demo_ping b1 10.0.2.20

say "ARP: a1 learned router ra's gateway MAC, b1 router rb's (answered by dvrd's fast path)"
for vm in a1 b1; do
  out=$(ip -n "${NS[$vm]}" neigh show "${TOPO_GW[$vm]}")
  echo "    $vm: $out"
  [[ $out == *"lladdr ${TOPO_GWMAC[$vm]}"* ]] || die "$vm has not learned ${TOPO_GWMAC[$vm]} for ${TOPO_GW[$vm]}"
done

# ----------------------------------------------------------------------------------------------
SIZE=$((20 * 1000 * 1000))
say "Tenant A: a 20 MB TCP transfer from a1 to a2 (10.0.2.20:5001), routed by dvrd"
head -c "$SIZE" /dev/urandom >"$WORK/in.bin" || die "cannot write the test data"
vmx a2 socat -u TCP-LISTEN:5001,bind=10.0.2.20,reuseaddr "OPEN:$WORK/out.bin,creat,trunc" \
  2>"$WORK/server.err" &
SERVER=$!
PIDS+=("$SERVER")
for _ in $(seq 1 50); do vmx a2 ss -ltn | grep -q '10.0.2.20:5001' && break; sleep 0.2; done
start=$(date +%s.%N)
timeout 60 ip netns exec "${NS[a1]}" socat -u "OPEN:$WORK/in.bin" TCP:10.0.2.20:5001,connect-timeout=10 \
  2>"$WORK/client.err" || die "the TCP transfer failed: $(cat "$WORK/client.err")"
for _ in $(seq 1 100); do alive "$SERVER" || break; sleep 0.2; done
alive "$SERVER" && die "the receiver did not finish"
wait "$SERVER" || die "the receiver failed: $(cat "$WORK/server.err")"
end=$(date +%s.%N)
SUM_IN=$(sha256sum <"$WORK/in.bin" | cut -d' ' -f1)
SUM_OUT=$(sha256sum <"$WORK/out.bin" | cut -d' ' -f1)
echo "    sent     $SIZE bytes  sha256 $SUM_IN"
echo "    received $(stat -c %s "$WORK/out.bin") bytes  sha256 $SUM_OUT"
awk -v s="$start" -v e="$end" -v n="$SIZE" 'BEGIN { printf "    (%.2f s, about %.0f Mbit/s)\n", e - s, n * 8 / (e - s) / 1e6 }'
[ "$SUM_IN" = "$SUM_OUT" ] || die "the received data differs from what was sent"
rm -f "$WORK/in.bin" "$WORK/out.bin"

say "traceroute from a1 to 10.0.2.20: exactly one hop, the distributed router's gateway"
out=""
for _ in 1 2 3; do  # a probe unanswered within 3 s (a busy machine) shows as '*': once more
  out=$(vmx a1 traceroute -n -w 3 -q 1 -m 5 10.0.2.20 2>&1)
  [[ $out == *'*'* ]] || break
done
indent <<<"$out"
hops=$(grep -E '^ *[0-9]+ ' <<<"$out" | awk '{print $1 "=" $2}' | tr '\n' ' ')
[ "$hops" = "1=10.0.1.1 2=10.0.2.20 " ] || die "traceroute did not show exactly one hop (got: $hops)"

# ----------------------------------------------------------------------------------------------
say "Isolation: tenant B tries to reach a service that only tenant A's a2 runs (10.0.2.20:5002)"
vmx a2 socat -u TCP-LISTEN:5002,bind=10.0.2.20,reuseaddr "OPEN:$WORK/a2-5002.out,creat" \
  2>/dev/null &
LISTENER=$!
PIDS+=("$LISTENER")
for _ in $(seq 1 50); do vmx a2 ss -ltn | grep -q '10.0.2.20:5002' && break; sleep 0.2; done
a2_before=$(ctl --json stats --port a2 | "/usr/bin/python3" -c 'import json,sys; p=json.load(sys.stdin)["ports"][0]; print(p["rx_packets"], p["tx_packets"])')
echo "    $ ip netns exec ${NS[b1]} socat - TCP:10.0.2.20:5002"
if out=$(timeout 20 ip netns exec "${NS[b1]}" socat -u /dev/null TCP:10.0.2.20:5002,connect-timeout=5 2>&1); then
  die "tenant B connected to 10.0.2.20:5002, a service of tenant A"
fi
echo "    $(tail -n 1 <<<"$out" | sed 's/^.* E //')  <- tenant B's own 10.0.2.20 (b2) refused it"
echo "    b1 sends 5 frames addressed to tenant A's router MAC ${TOPO_GWMAC[a1]} (scapy):"
vmx b1 /usr/bin/python3 -c '
import sys
from scapy.all import Ether, IP, ICMP, sendp
sendp(Ether(src=sys.argv[2], dst=sys.argv[3]) / IP(src="10.0.1.10", dst="10.0.2.20") / ICMP(),
      iface=sys.argv[1], count=5, verbose=False)
' "${TAP[b1]}" "${TOPO_MAC[b1]}" "${TOPO_GWMAC[a1]}" || die "scapy could not send from b1"
sleep 0.5
a2_after=$(ctl --json stats --port a2 | "/usr/bin/python3" -c 'import json,sys; p=json.load(sys.stdin)["ports"][0]; print(p["rx_packets"], p["tx_packets"])')
echo "    port a2 rx/tx packets before: $a2_before, after: $a2_after (nothing reached tenant A)"
echo "    dvrd's drops on port b1:"
ctl stats --port b1 | awk '/^PORT/ { p = 1 } p && /^$/ { exit } p' | indent | indent
[ -e "$WORK/a2-5002.out" ] && die "tenant A's service accepted a connection from tenant B"
[ "$a2_before" = "$a2_after" ] || die "tenant A's port a2 saw traffic while tenant B tried"

# ----------------------------------------------------------------------------------------------
say "dvrctl router list"
ctl router list | indent
say "dvrctl route show ra (per-router VRF: connected subnets, the gateways as local /32s)"
ctl route show ra | indent
say "dvrctl neighbor show (both tenants' VMs, same IPs, different networks)"
ctl neighbor show | indent
say "dvrctl stats"
ctl stats | indent

say "Stopping dvrd (SIGTERM)"
kill -TERM "$DVRD_PID"
for _ in $(seq 1 100); do alive "$DVRD_PID" || break; sleep 0.2; done
alive "$DVRD_PID" && die "dvrd did not stop within 20 s"
wait "$DVRD_PID"
rc=$?
[ $rc -eq 0 ] || die "dvrd exited with status $rc"
echo "    dvrd exited with status 0"

say "Success: two tenants with the same addresses, each routed east-west by its own distributed router in dvrd, and isolated from each other"
exit 0
