#include "external_input.h"

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_ip.h>

#include "../arp_reply.h"
#include "../hash_batch.h"
#include "../icmp.h"
#include "../ip4_checks.h"
#include "../nat/nat_rewrite.h"
#include "../nat/snat_pool.h"
#include "../packet.h"

namespace dvr::dp {

namespace {

// The VLAN id of a frame eth-input found tagged (l3_offset 18), 0 for untagged.
uint16_t vlan_of(rte_mbuf* m, const PacketMeta& meta) {
  if (meta.l3_offset != sizeof(rte_ether_hdr) + sizeof(rte_vlan_hdr)) return 0;
  const auto* vlan = rte_pktmbuf_mtod_offset(m, const rte_vlan_hdr*, sizeof(rte_ether_hdr));
  return rte_be_to_cpu_16(vlan->vlan_tci) & 0x0FFF;
}

const ExtAddr* ext_addr(const L3State& l3, uint16_t network, uint32_t ip) {
  const uint64_t key = neighbor_key(network, ip);
  void* data = nullptr;
  if (rte_hash_lookup_data(l3.ext_addrs, &key, &data) < 0) return nullptr;
  return static_cast<const ExtAddr*>(data);
}

// ARP on an external network: requests for our addresses are answered with our gateway MAC;
// replies to us and announcements go to the control thread (it keeps only what it asked for).
void external_arp(rte_mbuf* m, const PacketMeta& meta, uint16_t rx, uint16_t network,
                  const L3State& l3, WorkerContext& ctx) {
  uint32_t unused_target = 0;
  const DropReason r = arp_request_check(m, meta.l3_offset, unused_target);
  if (r == DropReason::kArpMalformed) {
    ctx.drop(m, rx, r);
    return;
  }
  const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, meta.l3_offset);
  const bool announcement = arp->arp_data.arp_sip == arp->arp_data.arp_tip;
  // (arp_request_check sets `target` for requests only.)
  const ExtAddr* ours = ext_addr(l3, network, rte_be_to_cpu_32(arp->arp_data.arp_tip));
  if (r == DropReason::kCount && !announcement) {
    if (ours == nullptr) {
      ctx.drop(m, rx, DropReason::kExternalArpIgnored);
      return;
    }
    arp_make_reply(m, meta.l3_offset, l3.networks[network].ext_gateway_mac);
    ctx.counters().arp_replies.inc();
    ctx.transmit(m, rx);
    return;
  }
  if (ours != nullptr || announcement) {
    ctx.punt(m, rx, PuntReason::kExternalArp);
  } else {
    ctx.drop(m, rx, DropReason::kExternalArpIgnored);
  }
}

// Reverse SNAT: the session that holds the destination port (or, for an ICMP error, the port of
// the packet it quotes) gives the VM's endpoint back.
DropReason snat_inbound(rte_ipv4_hdr* ip, uint32_t avail, SnatPool& pool, uint32_t now_ms) {
  rte_ipv4_hdr* inner = nullptr;
  uint32_t inner_avail = 0;
  NatProto proto;
  uint32_t inside_ip = 0;
  uint16_t inside_port = 0;
  if (icmp_error_quote(ip, avail, inner, inner_avail)) {
    // About a packet we translated on its way out: its source is our address and port.
    const NatPorts q = nat_ports(inner, inner_avail);
    if (!q.has_ports || !nat_proto_of(inner->next_proto_id, proto)) {
      return DropReason::kNatUntranslatable;
    }
    if (!pool.inbound(proto, q.src, 0, now_ms, /*refresh=*/false, inside_ip, inside_port)) {
      return DropReason::kSnatNoSession;
    }
    nat_rewrite_quoted(ip, avail, NatSide::kSource, inside_ip, true, inside_port);
    nat_rewrite(ip, avail, NatSide::kDestination, inside_ip, false, 0);
    return DropReason::kCount;
  }
  const NatPorts p = nat_ports(ip, avail);
  if (!p.has_ports || !nat_proto_of(ip->next_proto_id, proto)) {
    return DropReason::kNatUntranslatable;
  }
  if (!pool.inbound(proto, p.dst, p.tcp_flags, now_ms, /*refresh=*/true, inside_ip, inside_port)) {
    return DropReason::kSnatNoSession;
  }
  nat_rewrite(ip, avail, NatSide::kDestination, inside_ip, true, inside_port);
  return DropReason::kCount;
}

}  // namespace

void ExternalInputStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  const uint16_t rx = batch.rx_port;
  if (l3 == nullptr || rx >= l3->is_ext_port.size() || !l3->is_ext_port[rx]) return;

  // Pass 1: find each frame's external network; ARP is handled here, IPv4 queues for one bulk
  // lookup of its destination among the addresses we serve.
  HashBatch addrs;
  uint16_t network_of[kBurstSize];
  for (uint16_t i = 0; i < batch.count; ++i) {
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    const uint16_t network = l3->ext_network_of(rx, vlan_of(m, meta));
    if (network == kNoIndex) {
      ctx.drop(m, rx, DropReason::kExternalUnknownVlan);
      continue;
    }
    if (meta.ethertype == RTE_ETHER_TYPE_ARP) {
      external_arp(m, meta, rx, network, *l3, ctx);
      continue;
    }
    if (const DropReason r = check_ipv4_to_host(m, meta); r != DropReason::kCount) {
      ctx.drop(m, rx, r == DropReason::kNotIpv4 ? DropReason::kExternalUnsupported : r);
      continue;
    }
    network_of[i] = network;
    addrs.add(neighbor_key(network, rte_be_to_cpu_32(ipv4_of(m, meta)->dst_addr)), i);
  }
  addrs.lookup(l3->ext_addrs);

  // Pass 2: translate towards the VM, then hand the packet to its router.
  const auto now_ms = static_cast<uint32_t>(rte_rdtsc() / ctx.config().tsc_per_ms);
  uint16_t out = 0;
  for (uint16_t j = 0; j < addrs.size(); ++j) {
    const uint16_t i = addrs.packet(j);
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    const ExtAddr* a = addrs.value<ExtAddr>(j);
    if (a == nullptr) {
      ctx.drop(m, rx, DropReason::kExternalNotLocal);
      continue;
    }
    rte_ipv4_hdr* ip = ipv4_of(m, meta);
    const uint32_t avail = rte_pktmbuf_data_len(m) - meta.l3_offset;
    // Our own addresses answer ping (a floating IP is the VM's: its pings go through). The
    // reply's source MAC is the request's destination: make that ours first (it may have been
    // sent to broadcast). A request from one of our own addresses came from a VM of this host
    // (translated, then looped back): its reply loops back too, to be translated to the VM.
    if (a->kind != ExtAddrKind::kFloatingIp && is_icmp_echo_request(m, meta)) {
      eth_of(m)->dst_addr = l3->networks[network_of[i]].ext_gateway_mac;
      make_echo_reply(m, meta, ctx);
      const uint32_t to = rte_be_to_cpu_32(ip->dst_addr);
      if (ext_addr(*l3, network_of[i], to) != nullptr) {
        ctx.loopback(m, rx, a->router);
      } else {
        ctx.transmit(m, rx);
      }
      continue;
    }
    DropReason r = DropReason::kCount;
    switch (a->kind) {
      case ExtAddrKind::kGateway:
        r = DropReason::kExternalUnsupported;
        break;
      case ExtAddrKind::kFloatingIp:
        nat_rewrite_quoted(ip, avail, NatSide::kSource, a->inside_ip, false, 0);
        nat_rewrite(ip, avail, NatSide::kDestination, a->inside_ip, false, 0);
        break;
      case ExtAddrKind::kSnat:
        r = snat_inbound(ip, avail, *l3->snat_pools[a->pool], now_ms);
        break;
    }
    if (r != DropReason::kCount) {
      ctx.drop_routed(m, rx, a->router, r);  // kNoIndex: counted against the port only
      continue;
    }
    // Routing stages expect an untagged frame: drop the VLAN tag now.
    if (meta.l3_offset != sizeof(rte_ether_hdr)) {
      rte_vlan_strip(m);
      meta.l3_offset = sizeof(rte_ether_hdr);
      meta.ethertype = RTE_ETHER_TYPE_IPV4;
    }
    meta.network = network_of[i];
    meta.router = a->router;
    meta.flags |= kMetaRouted;
    ctx.counters().nat_inbound.inc();
    batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
