// Parsing and printing of IPv4 addresses, prefixes and MAC addresses (host byte order).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dvr {

using Mac = std::array<uint8_t, 6>;

struct Ipv4Prefix {
  uint32_t addr = 0;  // masked: host bits are zero
  uint8_t depth = 0;

  // The /depth network that holds `ip`.
  static Ipv4Prefix of(uint32_t ip, uint8_t depth) {
    const Ipv4Prefix p{0, depth};
    return {ip & p.mask(), depth};
  }
  uint32_t mask() const { return depth == 0 ? 0 : ~uint32_t{0} << (32 - depth); }
  bool contains(uint32_t ip) const { return (ip & mask()) == addr; }
  bool overlaps(const Ipv4Prefix& o) const {
    const uint8_t d = depth < o.depth ? depth : o.depth;
    const uint32_t m = d == 0 ? 0 : ~uint32_t{0} << (32 - d);
    return (addr & m) == (o.addr & m);
  }
  bool operator==(const Ipv4Prefix&) const = default;
  auto operator<=>(const Ipv4Prefix&) const = default;
};

std::optional<uint32_t> parse_ipv4(std::string_view s);
// "a.b.c.d/n" (a bare address means /32). With `strict`, host bits must be zero.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view s, bool strict = false);
std::optional<Mac> parse_mac(std::string_view s);  // "aa:bb:cc:dd:ee:ff", case-insensitive

std::string format_ipv4(uint32_t ip);
std::string format_prefix(const Ipv4Prefix& p);
std::string format_mac(const Mac& m);  // lower case

inline bool is_unicast_mac(const Mac& m) {
  return (m[0] & 1) == 0 && m != Mac{};
}

}  // namespace dvr
