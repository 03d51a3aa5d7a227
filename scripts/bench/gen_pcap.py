#!/usr/bin/python3
"""Writes the benchmark's input pcap: 64-byte UDP/IPv4 frames (60 bytes in the file, plus the
4-byte FCS on the wire) that both dvrd and DPDK's l3fwd route to their port 1 / sink.

  src 198.18.0.10 (on 198.18.0.0/24, l3fwd's default LPM route to port 0: the "VM" side)
  dst 198.18.1.10 (in 198.18.1.0/24, l3fwd's default LPM route -> port 1)

Usage: gen_pcap.py OUT.pcap [--count N] [--src-mac M] [--dst-mac M] [--src-ip A] [--dst-ip A]
The N frames differ only in the UDP source port (a few flows, same route).
Needs scapy; run with /usr/bin/python3.
"""
import argparse
import sys

from scapy.all import Ether, IP, UDP, Raw, wrpcap  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("out")
    p.add_argument("--count", type=int, default=32)
    p.add_argument("--src-mac", default="02:00:00:00:00:10")
    p.add_argument("--dst-mac", default="02:00:00:00:00:01")
    p.add_argument("--src-ip", default="198.18.0.10")
    p.add_argument("--dst-ip", default="198.18.1.10")
    p.add_argument("--frame-len", type=int, default=60, help="bytes without FCS (default 60 = 64 on the wire)")
    a = p.parse_args()

    hdr = 14 + 20 + 8
    if a.frame_len < hdr:
        print(f"gen_pcap: --frame-len must be at least {hdr}", file=sys.stderr)
        return 2
    frames = []
    for i in range(a.count):
        f = (Ether(src=a.src_mac, dst=a.dst_mac)
             / IP(src=a.src_ip, dst=a.dst_ip, ttl=64)
             / UDP(sport=1024 + i, dport=9)
             / Raw(b"\x00" * (a.frame_len - hdr)))
        f = Ether(bytes(f))  # materialise lengths and checksums
        assert len(f) == a.frame_len, len(f)
        frames.append(f)
    wrpcap(a.out, frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
