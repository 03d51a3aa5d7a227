#include "frames.h"

#include <arpa/inet.h>

#include <cstdio>
#include <stdexcept>

namespace dvr::test {

namespace {

void put16(Frame& f, uint16_t v) {
  f.push_back(static_cast<uint8_t>(v >> 8));
  f.push_back(static_cast<uint8_t>(v));
}
void put32(Frame& f, uint32_t v) {
  put16(f, static_cast<uint16_t>(v >> 16));
  put16(f, static_cast<uint16_t>(v));
}
uint16_t get16(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f.at(off) << 8 | f.at(off + 1));
}
uint32_t get32(const Frame& f, size_t off) {
  return uint32_t{get16(f, off)} << 16 | get16(f, off + 2);
}

}  // namespace

uint16_t ones_complement_sum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2) sum += static_cast<uint32_t>(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

Mac6 mac(const std::string& text) {
  Mac6 m{};
  unsigned v[6];
  if (std::sscanf(text.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) !=
      6) {
    throw std::invalid_argument(text);
  }
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

uint32_t ip(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) throw std::invalid_argument(text);
  return ntohl(a.s_addr);
}

Frame ethernet(const Mac6& dst, const Mac6& src, uint16_t type, const Frame& payload) {
  Frame f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  put16(f, type);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

Frame ipv4(const Ipv4Fields& x, const Frame& l4) {
  Frame f;
  const size_t hlen = size_t{x.ihl} * 4;
  f.push_back(static_cast<uint8_t>(x.version << 4 | x.ihl));
  f.push_back(0);
  put16(f, static_cast<uint16_t>(static_cast<int>(hlen + l4.size()) + x.total_length_delta));
  put16(f, x.id);
  put16(f, x.frag);
  f.push_back(x.ttl);
  f.push_back(x.proto);
  put16(f, 0);
  put32(f, x.src);
  put32(f, x.dst);
  f.resize(hlen, 0);
  uint16_t ck = static_cast<uint16_t>(~ones_complement_sum(f.data(), hlen));
  if (x.bad_checksum) ck ^= 0x1234;
  f[10] = static_cast<uint8_t>(ck >> 8);
  f[11] = static_cast<uint8_t>(ck);
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

Frame udp(uint16_t sport, uint16_t dport, const Frame& data) {
  Frame f;
  put16(f, sport);
  put16(f, dport);
  put16(f, static_cast<uint16_t>(8 + data.size()));
  put16(f, 0);  // no checksum (legal for UDP over IPv4)
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

Frame icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Frame& data) {
  Frame f = {type, 0, 0, 0};
  put16(f, id);
  put16(f, seq);
  f.insert(f.end(), data.begin(), data.end());
  const uint16_t ck = static_cast<uint16_t>(~ones_complement_sum(f.data(), f.size()));
  f[2] = static_cast<uint8_t>(ck >> 8);
  f[3] = static_cast<uint8_t>(ck);
  return f;
}

Frame tcp(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
          const Frame& data) {
  Frame f;
  put16(f, sport);
  put16(f, dport);
  put32(f, seq);
  put32(f, ack);
  f.push_back(5 << 4);  // data offset: 5 words
  f.push_back(flags);
  put16(f, 65535);  // window
  put16(f, 0);      // checksum
  put16(f, 0);      // urgent pointer
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

Frame icmp(uint8_t type, uint8_t code, uint32_t rest, const Frame& data) {
  Frame f = {type, code, 0, 0};
  put32(f, rest);
  f.insert(f.end(), data.begin(), data.end());
  const uint16_t ck = static_cast<uint16_t>(~ones_complement_sum(f.data(), f.size()));
  f[2] = static_cast<uint8_t>(ck >> 8);
  f[3] = static_cast<uint8_t>(ck);
  return f;
}

Frame arp(uint16_t op, const Mac6& sha, uint32_t spa, const Mac6& tha, uint32_t tpa) {
  Frame f;
  put16(f, 1);
  put16(f, 0x0800);
  f.push_back(6);
  f.push_back(4);
  put16(f, op);
  f.insert(f.end(), sha.begin(), sha.end());
  put32(f, spa);
  f.insert(f.end(), tha.begin(), tha.end());
  put32(f, tpa);
  return f;
}

Frame bytes(size_t n, uint8_t seed) {
  Frame f(n);
  for (size_t i = 0; i < n; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  return f;
}

Frame ethernet_vlan(const Mac6& dst, const Mac6& src, uint16_t tci, uint16_t type,
                    const Frame& payload) {
  Frame f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  put16(f, 0x8100);
  put16(f, tci);
  put16(f, type);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

Mac6 eth_dst(const Frame& f) {
  return {f.at(0), f.at(1), f.at(2), f.at(3), f.at(4), f.at(5)};
}
Mac6 eth_src(const Frame& f) {
  return {f.at(6), f.at(7), f.at(8), f.at(9), f.at(10), f.at(11)};
}
uint16_t eth_type(const Frame& f) {
  return get16(f, 12);
}
uint8_t ip_ttl(const Frame& f) {
  return f.at(22);
}
uint8_t ip_proto(const Frame& f) {
  return f.at(23);
}
uint32_t ip_src(const Frame& f) {
  return get32(f, 26);
}
uint32_t ip_dst(const Frame& f) {
  return get32(f, 30);
}
bool ip_checksum_ok(const Frame& f) {
  const size_t hlen = size_t{f.at(14) & 0x0fu} * 4;
  return ones_complement_sum(f.data() + 14, hlen) == 0xffff;
}

}  // namespace dvr::test
