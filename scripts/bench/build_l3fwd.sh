#!/usr/bin/env bash
# Builds DPDK's l3fwd sample from Debian's dpdk-doc sources (/usr/share/dpdk/examples/l3fwd)
# against the installed libdpdk (pkg-config), in a directory OUTSIDE the repository:
#   ${DVR_BENCH_DIR:-/var/tmp/dvrd-bench}/l3fwd/build/l3fwd
# No l3fwd code is ever copied into the repository. The sample's own Makefile is used
# unchanged (shared build, -O3 plus libdpdk's pkg-config cflags); it is rebuilt only when the
# sources (or this script) are newer than the binary. Prints the binary's path on stdout, logs
# on stderr.
#
# One adaptation is applied to the copy (never to the repository): DPDK 22.11's l3fwd always
# requests RTE_ETH_RX_OFFLOAD_CHECKSUM, which virtual devices such as net_pcap and net_null do
# not offer, so rte_eth_dev_configure() fails with -EINVAL ("requested Rx offloads 0xe doesn't
# match Rx offloads capabilities 0x0"). The requested Rx offloads are masked with the device's
# capabilities (the port and its rx queues), which is what later DPDK releases of the sample do
# by themselves. Nothing else changes: l3fwd's LPM path does not read the checksum flags (it
# does not verify IPv4 checksums at all; its RFC 1812 checks are on version, length and TTL).
set -euo pipefail

EXAMPLES=${DPDK_EXAMPLES_DIR:-/usr/share/dpdk/examples}
BENCH_DIR=${DVR_BENCH_DIR:-/var/tmp/dvrd-bench}
SRC="$EXAMPLES/l3fwd"
DST="$BENCH_DIR/l3fwd"
BIN="$DST/build/l3fwd"

if [[ ! -f "$SRC/main.c" ]]; then
  echo "build_l3fwd: $SRC/main.c not found; install the dpdk-doc package (scripts/install-deps.sh)" >&2
  exit 1
fi
if ! pkg-config --exists libdpdk; then
  echo "build_l3fwd: pkg-config does not know libdpdk; install libdpdk-dev" >&2
  exit 1
fi

# Up to date? (binary newer than every source file and the installed libdpdk.pc)
if [[ -x "$BIN" && -z "$(find "$SRC" "$EXAMPLES/common" "$(pkg-config --path libdpdk)" "$0" \
                           -newer "$BIN" -print -quit 2>/dev/null)" ]]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$BENCH_DIR"
rm -rf "$DST" "$BENCH_DIR/common"
# The Makefile adds -I../common, so keep the examples' layout: $BENCH_DIR/{l3fwd,common}.
cp -r "$SRC" "$DST"
if [[ -d "$EXAMPLES/common" ]]; then cp -r "$EXAMPLES/common" "$BENCH_DIR/common"; fi
# The Rx offload adaptation (see the top of this file), checked so that a changed sample fails
# loudly instead of silently building something else.
main="$DST/main.c"
if ! grep -q '^[[:space:]]*ret = rte_eth_dev_configure(portid, nb_rx_queue,' "$main" ||
  ! grep -q '^[[:space:]]*rxq_conf.offloads = port_conf.rxmode.offloads;' "$main"; then
  echo "build_l3fwd: $SRC/main.c does not look like DPDK 22.11's l3fwd; cannot adapt its Rx offloads" >&2
  exit 1
fi
sed -i \
  -e 's/^\([[:space:]]*\)ret = rte_eth_dev_configure(portid, nb_rx_queue,/\1local_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa; \/* dvrd bench: vdevs *\/\n&/' \
  -e 's/^\([[:space:]]*\)rxq_conf.offloads = port_conf.rxmode.offloads;/\1rxq_conf.offloads = port_conf.rxmode.offloads \& dev_info.rx_offload_capa; \/* dvrd bench *\//' \
  "$main"
[[ $(grep -c 'dvrd bench' "$main") == 2 ]] || { echo "build_l3fwd: adapting $main failed" >&2; exit 1; }
echo "build_l3fwd: building l3fwd in $DST (make, pkg-config libdpdk $(pkg-config --modversion libdpdk))" >&2
make -C "$DST" -j"$(nproc)" shared >&2
[[ -x "$BIN" ]] || { echo "build_l3fwd: $BIN was not produced" >&2; exit 1; }
echo "$BIN"
