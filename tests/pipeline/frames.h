// Hand-built frames for pipeline tests, and accessors to check what came out.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pcap_io.h"

namespace dvr::test {

using Mac6 = std::array<uint8_t, 6>;

Mac6 mac(const std::string& text);  // "02:00:00:00:00:01"
uint32_t ip(const std::string& text);

struct Ipv4Fields {
  uint32_t src = 0, dst = 0;
  uint8_t ttl = 64;
  uint8_t proto = 17;
  uint16_t id = 1;
  uint16_t frag = 0;  // flags + offset, host order
  uint8_t ihl = 5;    // header length in 32-bit words (options are zero bytes)
  uint8_t version = 4;
  bool bad_checksum = false;
  int total_length_delta = 0;  // added to the correct total length
};

Frame ethernet(const Mac6& dst, const Mac6& src, uint16_t type, const Frame& payload);
Frame ipv4(const Ipv4Fields& f, const Frame& l4);
Frame udp(uint16_t sport, uint16_t dport, const Frame& data);
Frame icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Frame& data);
// TCP header (20 bytes, no options) + data; the checksum is left 0 (nothing in dvrd checks it).
Frame tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
          const Frame& data);
// Any ICMP message: type, code, checksum, the 4 "rest of header" bytes, then `data` (for an error:
// the quoted IP header and the first 8 bytes of its payload). The checksum is computed.
Frame icmp(uint8_t type, uint8_t code, uint32_t rest, const Frame& data);
Frame arp(uint16_t op, const Mac6& sha, uint32_t spa, const Mac6& tha, uint32_t tpa);
Frame bytes(size_t n, uint8_t seed);
// An 802.1Q-tagged Ethernet frame.
Frame ethernet_vlan(const Mac6& dst, const Mac6& src, uint16_t tci, uint16_t type,
                    const Frame& payload);

// Field access on a received frame (untagged Ethernet + IPv4).
Mac6 eth_dst(const Frame& f);
Mac6 eth_src(const Frame& f);
uint16_t eth_type(const Frame& f);
uint8_t ip_ttl(const Frame& f);
uint8_t ip_proto(const Frame& f);
uint32_t ip_src(const Frame& f);
uint32_t ip_dst(const Frame& f);
bool ip_checksum_ok(const Frame& f);
uint16_t ones_complement_sum(const uint8_t* p, size_t n);

}  // namespace dvr::test
