#!/usr/bin/env bash
# dvrd in one command (as root): installs the dependencies, builds, starts dvrd in development
# mode (no hugepages, no NIC needed) with two tap ports patched to each other, puts each tap in
# its own network namespace -- two "VMs" -- and pings from one to the other through dvrd's
# worker. Prints dvrd's port list and counters, then removes everything it created.
#
#   bash scripts/demo.sh
#
# Exit status: 0 when the ping went through, non-zero otherwise.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
REPO=$(pwd)
BUILD="$REPO/build"

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run me as root: dvrd creates tap interfaces and the demo creates network namespaces"

# ----------------------------------------------------------------------------------------------
say "Installing dependencies (scripts/install-deps.sh)"
if [ -f scripts/install-deps.sh ]; then
  bash scripts/install-deps.sh || die "installing the dependencies failed"
else
  echo "    scripts/install-deps.sh not found; assuming the dependencies are installed"
fi

say "Building dvrd and dvrctl in $BUILD"
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" || die "meson setup failed"
fi
# Only the two programs the demo runs: a broken test elsewhere in the tree must not stop it.
ninja -C "$BUILD" control/dvrd control/dvrctl/dvrctl || die "the build failed"
DVRD="$BUILD/control/dvrd"
DVRCTL="$BUILD/control/dvrctl/dvrctl"
if [ ! -x "$DVRD" ] || [ ! -x "$DVRCTL" ]; then die "the build did not produce $DVRD and $DVRCTL"; fi

# ----------------------------------------------------------------------------------------------
# Everything below is named with a per-run suffix and removed by cleanup(), even on failure.
SUFFIX="$$"
NS1="demo-vm1-$SUFFIX"
NS2="demo-vm2-$SUFFIX"
TAP1="dvrdemo1-$SUFFIX"
TAP1=${TAP1:0:15}
TAP2="dvrdemo2-$SUFFIX"
TAP2=${TAP2:0:15}
PREFIX="dvrdemo_$SUFFIX"
WORK=$(mktemp -d /tmp/dvrd-demo.XXXXXX) || die "mktemp failed"
SOCK="$WORK/dvrd.sock"
LOG="$WORK/dvrd.log"
DVRD_PID=""

alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  say "Cleaning up"
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
    tail -n 20 "$LOG" | sed 's/^/      /'
  fi
  for ns in "$NS1" "$NS2"; do
    ip netns del "$ns" 2>/dev/null && echo "    removed namespace $ns"
  done
  rm -rf "$WORK" "/var/run/dpdk/$PREFIX"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ctl() { "$DVRCTL" --socket "$SOCK" "$@"; }

# ----------------------------------------------------------------------------------------------
say "Starting dvrd (development mode, one worker) with two tap ports patched to each other"
echo "    $DVRD --dev --socket $SOCK \\"
echo "      --port vm1=tap,iface=$TAP1,xconnect=vm2 --port vm2=tap,iface=$TAP2,xconnect=vm1 \\"
echo "      -- -l 0,1 --file-prefix $PREFIX"
"$DVRD" --dev --socket "$SOCK" \
  --port "vm1=tap,iface=$TAP1,xconnect=vm2" --port "vm2=tap,iface=$TAP2,xconnect=vm1" \
  -- -l 0,1 --file-prefix "$PREFIX" --log-level=lib.eal:warning --no-telemetry \
  </dev/null >"$LOG" 2>&1 &
DVRD_PID=$!

ready=0
for _ in $(seq 1 100); do  # 20 s at most
  if ctl --timeout 2 version >/dev/null 2>&1; then
    ready=1
    break
  fi
  alive "$DVRD_PID" || die "dvrd exited during startup"
  sleep 0.2
done
[ $ready -eq 1 ] || die "dvrd did not answer on $SOCK within 20 s"
ctl version | sed 's/^/    /'

say "Creating two namespaces, $NS1 and $NS2, one tap in each"
for t in "$TAP1" "$TAP2"; do
  for _ in $(seq 1 50); do ip link show dev "$t" >/dev/null 2>&1 && break; sleep 0.2; done
  ip link show dev "$t" >/dev/null 2>&1 || die "dvrd did not create the tap interface $t"
done
setup_vm() {  # namespace tap address
  ip netns add "$1" || die "ip netns add $1 failed"
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 >/dev/null
  ip -n "$1" link set lo up
  ip link set dev "$2" netns "$1" || die "cannot move $2 into $1"
  ip -n "$1" addr add "$3/24" dev "$2" || die "cannot give $2 the address $3"
  ip -n "$1" link set dev "$2" up || die "cannot bring $2 up"
  echo "    $1: $2 $3/24"
}
setup_vm "$NS1" "$TAP1" 10.200.0.1
setup_vm "$NS2" "$TAP2" 10.200.0.2

say "Pinging 10.200.0.2 ($NS2) from $NS1 through dvrd"
ip netns exec "$NS1" ping -c 5 -i 0.5 -W 2 10.200.0.2 | sed 's/^/    /'
ping_rc=${PIPESTATUS[0]}

say "dvrctl port list"
ctl port list | sed 's/^/    /'
say "dvrctl stats"
ctl stats | sed 's/^/    /'

if [ "$ping_rc" -ne 0 ]; then
  say "FAILED: the ping from $NS1 to $NS2 did not go through dvrd"
  exit 1
fi
say "Success: $NS1 and $NS2 talk through dvrd's cross-connect (see vm1/vm2 RX-PKTS and TX-PKTS)"
exit 0
