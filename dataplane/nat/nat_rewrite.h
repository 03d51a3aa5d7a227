// Address and port translation of IPv4 packets in place, with every checksum patched
// incrementally (RFC 1624): the IPv4 header, the TCP/UDP checksum (its pseudo-header covers the
// addresses), the ICMP echo identifier, and for ICMP errors the packet they quote.
//
// No state and no DPDK beyond header structs: the NAT stages decide what to translate, these
// functions only rewrite. `avail` is how many contiguous bytes follow the IPv4 header's start.
#pragma once

#include <rte_ip.h>

#include <cstdint>

namespace dvr::dp {

// The endpoints of a packet as NAT sees them (host order). For ICMP echo request and reply both
// "ports" are the identifier.
struct NatPorts {
  bool has_ports = false;  // TCP, UDP or ICMP echo, first fragment, header present
  uint16_t src = 0;
  uint16_t dst = 0;
  uint8_t tcp_flags = 0;
};

NatPorts nat_ports(const rte_ipv4_hdr* ip, uint32_t avail);

// True for an ICMP destination unreachable, time exceeded or parameter problem message that
// quotes at least an IPv4 header and 8 bytes of it. Sets `inner` and the bytes from it.
bool icmp_error_quote(rte_ipv4_hdr* ip, uint32_t avail, rte_ipv4_hdr*& inner,
                      uint32_t& inner_avail);

enum class NatSide : uint8_t { kSource, kDestination };

// Rewrites the packet's source or destination address to `addr` and, when `set_port`, its
// port (ICMP echo: the identifier) to `port`. Host order arguments.
void nat_rewrite(rte_ipv4_hdr* ip, uint32_t avail, NatSide side, uint32_t addr, bool set_port,
                 uint16_t port);

// For an ICMP error: rewrites the quoted packet's `side` endpoint (and port), fixing its header
// checksum, its TCP/UDP checksum when quoted whole, and the ICMP checksum.
void nat_rewrite_quoted(rte_ipv4_hdr* ip, uint32_t avail, NatSide side, uint32_t addr,
                        bool set_port, uint16_t port);

// One's complement helpers (network-order words in, network-order checksum out).
uint16_t csum_replace16(uint16_t csum, uint16_t old_word, uint16_t new_word);
uint16_t csum_replace32(uint16_t csum, uint32_t old_word, uint32_t new_word);

}  // namespace dvr::dp
