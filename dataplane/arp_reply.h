// ARP requests answered in place, shared by the arp stage (VM ports), the underlay (our tunnel
// IP) and ARP that arrives over the overlay (answered for the remote requester); and ARP frames
// built from scratch (the underlay resolver's requests).
#pragma once

#include <cstdint>

#include "drop_reason.h"
#include "l3_state.h"

struct rte_mbuf;
struct rte_ether_addr;

namespace dvr::dp {

// Why an ARP frame at `l3_offset` of `m` cannot be answered: kArpMalformed (not Ethernet/IPv4
// ARP, or truncated), kArpNotRequest (a reply or an announcement: the control plane owns the
// neighbor tables), or kCount for a well-formed request. `target` receives its target IP
// (host order).
DropReason arp_request_check(const rte_mbuf* m, uint16_t l3_offset, uint32_t& target);

// The MAC that owns `ip` on `network` (a gateway or a VM, local or remote), or nullptr.
const rte_ether_addr* arp_owner(const L3State& l3, uint16_t network, uint32_t ip);

// Turns the request into the reply from `answer`, in place (Ethernet header included): the
// frame then goes back to whoever asked.
void arp_make_reply(rte_mbuf* m, uint16_t l3_offset, const rte_ether_addr& answer);

// Appends a 60-byte Ethernet/IPv4 ARP frame to the empty mbuf `m`: opcode `op` (RTE_ARP_OP_*),
// from `sha`/`sip` to `eth_dst`, target `tha`/`tip` (addresses in host order). False when the
// mbuf has no room.
bool arp_build(rte_mbuf* m, uint16_t op, const rte_ether_addr& eth_dst, const rte_ether_addr& sha,
               uint32_t sip, const rte_ether_addr& tha, uint32_t tip);

}  // namespace dvr::dp
