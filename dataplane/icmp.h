// ICMP messages the router originates in the fast path: echo replies for its own addresses and
// rate-limited errors (time exceeded, destination unreachable). Both reuse the packet's mbuf.
#pragma once

#include <cstdint>

#include "batch.h"
#include "worker_context.h"

struct rte_mbuf;

namespace dvr::dp {

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpCodeNetUnreachable = 0;
inline constexpr uint8_t kIcmpCodeHostUnreachable = 1;
inline constexpr uint8_t kIcmpCodeFragmentationNeeded = 4;

// True if the IPv4 packet is an ICMP echo request (header already validated by ip4-input).
bool is_icmp_echo_request(rte_mbuf* m, const PacketMeta& meta);

// Turns an echo request to one of the router's addresses into the reply and sends it back out of
// the rx port.
void send_echo_reply(rte_mbuf* m, const PacketMeta& meta, uint16_t rx_port, WorkerContext& ctx);
// The same, without sending it: the caller decides where it goes.
void make_echo_reply(rte_mbuf* m, const PacketMeta& meta, WorkerContext& ctx);

// Drops the packet under `reason` (counted per port and router) and, budget permitting, recycles
// its mbuf into an ICMP error to the sender, from the gateway address it sent to (RFC 792: the
// original IP header plus the first 8 bytes of its payload). `next_hop_mtu` goes into
// "fragmentation needed" errors (RFC 1191).
void drop_with_icmp_error(rte_mbuf* m, const PacketMeta& meta, uint16_t rx_port, WorkerContext& ctx,
                          DropReason reason, uint8_t type, uint8_t code, uint16_t next_hop_mtu = 0);

}  // namespace dvr::dp
