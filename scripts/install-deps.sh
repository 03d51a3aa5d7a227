#!/usr/bin/env bash
# Installs every build and test dependency of dvrd from Debian 12 packages, as root.
# Idempotent: when everything is already installed it prints one line and changes nothing.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config clang-format
  dpdk dpdk-dev libdpdk-dev
  libprotobuf-dev protobuf-compiler libboost-dev libpcap-dev
  # tests and benchmarks
  googletest libgtest-dev libbenchmark-dev
  iproute2 iputils-ping traceroute arping socat netcat-openbsd tcpdump python3-scapy procps
  # the DPDK example sources, for the l3fwd baseline in the benchmarks
  dpdk-doc
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != "installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
