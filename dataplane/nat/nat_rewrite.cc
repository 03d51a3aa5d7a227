#include "nat_rewrite.h"

#include <rte_byteorder.h>

#include <cstring>

namespace dvr::dp {

namespace {

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;
constexpr uint8_t kIcmpDestUnreach = 3, kIcmpTimeExceeded = 11, kIcmpParamProblem = 12;
constexpr uint32_t kIcmpHeader = 8;
constexpr uint8_t kEchoReply = 0, kEchoRequest = 8;

uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
void store16(uint8_t* p, uint16_t v) {
  std::memcpy(p, &v, sizeof(v));
}

uint32_t header_len(const rte_ipv4_hdr* ip) {
  return uint32_t{ip->version_ihl & 0x0Fu} * 4;
}

bool first_fragment(const rte_ipv4_hdr* ip) {
  return (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) == 0;
}

bool is_echo(uint8_t type) {
  return type == kEchoRequest || type == kEchoReply;
}

// Replaces the 16-bit word at `p` and patches the checksum at `csum` (both network order).
void replace16(uint8_t* p, uint16_t new_word, uint8_t* csum) {
  const uint16_t old_word = load16(p);
  store16(p, new_word);
  if (csum != nullptr) store16(csum, csum_replace16(load16(csum), old_word, new_word));
}

// Rewrites one endpoint of an IPv4 header and, when present in `avail`, its transport header.
// Every 16-bit word changed is also reported to `outer_csum` (the ICMP checksum of an error that
// quotes this packet), so that it stays right too.
void rewrite_endpoint(rte_ipv4_hdr* ip, uint32_t avail, NatSide side, uint32_t addr, bool set_port,
                      uint16_t port, uint8_t* outer_csum) {
  auto* ipb = reinterpret_cast<uint8_t*>(ip);
  const uint32_t addr_off = side == NatSide::kSource ? 12 : 16;
  const uint32_t new_addr = rte_cpu_to_be_32(addr);
  uint32_t old_addr;
  std::memcpy(&old_addr, ipb + addr_off, sizeof(old_addr));
  const uint16_t old_ip_csum = ip->hdr_checksum;
  std::memcpy(ipb + addr_off, &new_addr, sizeof(new_addr));
  ip->hdr_checksum = csum_replace32(ip->hdr_checksum, old_addr, new_addr);
  if (outer_csum != nullptr) {
    uint16_t c = csum_replace32(load16(outer_csum), old_addr, new_addr);
    c = csum_replace16(c, old_ip_csum, ip->hdr_checksum);
    store16(outer_csum, c);
  }

  const uint32_t ihl = header_len(ip);
  if (!first_fragment(ip)) return;
  uint8_t* l4 = ipb + ihl;
  const uint16_t new_port = rte_cpu_to_be_16(port);
  const uint32_t port_off = side == NatSide::kSource ? 0 : 2;
  auto patch = [&](uint8_t* csum, bool zero_means_none) {
    // The transport checksum covers the addresses through the pseudo-header, and the port.
    if (csum == nullptr) return;
    const uint16_t before = load16(csum);
    if (zero_means_none && before == 0) return;  // UDP without a checksum stays without
    uint16_t c = csum_replace32(before, old_addr, new_addr);
    if (set_port) c = csum_replace16(c, load16(l4 + port_off), new_port);
    if (zero_means_none && c == 0) c = 0xFFFF;
    store16(csum, c);
    if (outer_csum != nullptr) store16(outer_csum, csum_replace16(load16(outer_csum), before, c));
  };
  switch (ip->next_proto_id) {
    case kProtoTcp:
      if (avail < ihl + 8) return;
      patch(avail >= ihl + 18 ? l4 + 16 : nullptr, false);
      if (set_port) replace16(l4 + port_off, new_port, outer_csum);
      break;
    case kProtoUdp:
      if (avail < ihl + 8) return;
      patch(l4 + 6, true);
      if (set_port) replace16(l4 + port_off, new_port, outer_csum);
      break;
    case kProtoIcmp: {
      // ICMP has no pseudo-header: only the identifier of an echo changes its checksum.
      if (!set_port || avail < ihl + kIcmpHeader || !is_echo(l4[0])) return;
      const uint16_t old_csum = load16(l4 + 2);
      const uint16_t old_id = load16(l4 + 4);
      const uint16_t new_csum = csum_replace16(old_csum, old_id, new_port);
      store16(l4 + 4, new_port);
      store16(l4 + 2, new_csum);
      if (outer_csum != nullptr) {
        const uint16_t c = csum_replace16(load16(outer_csum), old_id, new_port);
        store16(outer_csum, csum_replace16(c, old_csum, new_csum));
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

uint16_t csum_replace16(uint16_t csum, uint16_t old_word, uint16_t new_word) {
  uint32_t s = uint32_t{static_cast<uint16_t>(~csum)} + static_cast<uint16_t>(~old_word) + new_word;
  s = (s & 0xFFFF) + (s >> 16);
  s = (s & 0xFFFF) + (s >> 16);
  return static_cast<uint16_t>(~s);
}

uint16_t csum_replace32(uint16_t csum, uint32_t old_word, uint32_t new_word) {
  csum = csum_replace16(csum, static_cast<uint16_t>(old_word), static_cast<uint16_t>(new_word));
  return csum_replace16(csum, static_cast<uint16_t>(old_word >> 16),
                        static_cast<uint16_t>(new_word >> 16));
}

NatPorts nat_ports(const rte_ipv4_hdr* ip, uint32_t avail) {
  NatPorts r;
  const uint32_t ihl = header_len(ip);
  if (!first_fragment(ip) || avail < ihl + 8) return r;
  const auto* l4 = reinterpret_cast<const uint8_t*>(ip) + ihl;
  switch (ip->next_proto_id) {
    case kProtoTcp:
      if (avail < ihl + 14) return r;
      r.tcp_flags = l4[13];
      [[fallthrough]];
    case kProtoUdp:
      r.src = rte_be_to_cpu_16(load16(l4));
      r.dst = rte_be_to_cpu_16(load16(l4 + 2));
      r.has_ports = true;
      return r;
    case kProtoIcmp:
      if (!is_echo(l4[0])) return r;
      r.src = r.dst = rte_be_to_cpu_16(load16(l4 + 4));
      r.has_ports = true;
      return r;
    default:
      return r;
  }
}

bool icmp_error_quote(rte_ipv4_hdr* ip, uint32_t avail, rte_ipv4_hdr*& inner,
                      uint32_t& inner_avail) {
  if (ip->next_proto_id != kProtoIcmp || !first_fragment(ip)) return false;
  const uint32_t ihl = header_len(ip);
  if (avail < ihl + kIcmpHeader + sizeof(rte_ipv4_hdr)) return false;
  auto* l4 = reinterpret_cast<uint8_t*>(ip) + ihl;
  if (l4[0] != kIcmpDestUnreach && l4[0] != kIcmpTimeExceeded && l4[0] != kIcmpParamProblem) {
    return false;
  }
  inner = reinterpret_cast<rte_ipv4_hdr*>(l4 + kIcmpHeader);
  inner_avail = avail - ihl - kIcmpHeader;
  const uint32_t inner_ihl = header_len(inner);
  return (inner->version_ihl >> 4) == 4 && inner_ihl >= sizeof(rte_ipv4_hdr) &&
         inner_avail >= inner_ihl + 8;
}

void nat_rewrite(rte_ipv4_hdr* ip, uint32_t avail, NatSide side, uint32_t addr, bool set_port,
                 uint16_t port) {
  rewrite_endpoint(ip, avail, side, addr, set_port, port, nullptr);
}

void nat_rewrite_quoted(rte_ipv4_hdr* ip, uint32_t avail, NatSide side, uint32_t addr,
                        bool set_port, uint16_t port) {
  rte_ipv4_hdr* inner = nullptr;
  uint32_t inner_avail = 0;
  if (!icmp_error_quote(ip, avail, inner, inner_avail)) return;
  uint8_t* icmp_csum = reinterpret_cast<uint8_t*>(ip) + header_len(ip) + 2;
  rewrite_endpoint(inner, inner_avail, side, addr, set_port, port, icmp_csum);
}

}  // namespace dvr::dp
