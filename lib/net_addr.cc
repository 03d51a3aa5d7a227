#include "net_addr.h"

#include <charconv>
#include <cstdio>

namespace dvr {

namespace {

bool parse_uint(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 3) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out <= max;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<uint32_t> parse_ipv4(std::string_view s) {
  uint32_t ip = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = s.find('.');
    const std::string_view part = i < 3 ? s.substr(0, dot) : s;
    if (i < 3 && dot == std::string_view::npos) return std::nullopt;
    unsigned v = 0;
    // Leading zeros are refused: "010" is octal to some tools and decimal to others.
    if (!parse_uint(part, 255, v) || (part.size() > 1 && part[0] == '0')) return std::nullopt;
    ip = (ip << 8) | v;
    if (i < 3) s.remove_prefix(dot + 1);
  }
  return ip;
}

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view s, bool strict) {
  const size_t slash = s.find('/');
  const auto ip = parse_ipv4(s.substr(0, slash));
  if (!ip) return std::nullopt;
  unsigned depth = 32;
  if (slash != std::string_view::npos && !parse_uint(s.substr(slash + 1), 32, depth)) {
    return std::nullopt;
  }
  Ipv4Prefix p{*ip, static_cast<uint8_t>(depth)};
  p.addr &= p.mask();
  if (strict && p.addr != *ip) return std::nullopt;
  return p;
}

std::optional<Mac> parse_mac(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  Mac m{};
  for (size_t i = 0; i < 6; ++i) {
    const int hi = hex_value(s[i * 3]);
    const int lo = hex_value(s[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':')) return std::nullopt;
    m[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return m;
}

std::string format_ipv4(uint32_t ip) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
                ip & 0xff);
  return buf;
}

std::string format_prefix(const Ipv4Prefix& p) {
  return format_ipv4(p.addr) + "/" + std::to_string(p.depth);
}

std::string format_mac(const Mac& m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

}  // namespace dvr
