#include "ip4_lookup.h"

#include <rte_ip.h>

#include <cstring>

#include "../hash_batch.h"
#include "../icmp.h"
#include "../packet.h"
#include "../route_table/route_table.h"

namespace dvr::dp {

namespace {

void set_destination(PacketMeta& meta, const rte_ether_addr& mac, uint16_t port) {
  std::memcpy(meta.dst_mac, mac.addr_bytes, sizeof(meta.dst_mac));
  meta.out_port = port;
}

}  // namespace

void Ip4LookupStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  const uint16_t rx = batch.rx_port;

  // 1. Route lookup, batched per router. A VM port's burst nearly always has one router.
  uint32_t dst[kBurstSize];
  uint32_t hops[kBurstSize];
  bool routed[kBurstSize];
  for (uint16_t i = 0; i < batch.count; ++i) {
    routed[i] = batch.meta[i].network != kNoNetwork;
    if (routed[i]) dst[i] = rte_be_to_cpu_32(ipv4_of(batch.pkts[i], batch.meta[i])->dst_addr);
  }
  bool done[kBurstSize] = {};
  for (uint16_t first = 0; first < batch.count; ++first) {
    if (!routed[first] || done[first]) continue;
    const uint16_t router = batch.meta[first].router;
    uint32_t ips[kBurstSize];
    uint32_t res[kBurstSize];
    uint16_t idx[kBurstSize];
    uint16_t n = 0;
    for (uint16_t i = first; i < batch.count; ++i) {
      if (routed[i] && !done[i] && batch.meta[i].router == router) {
        ips[n] = dst[i];
        idx[n++] = i;
        done[i] = true;
      }
    }
    l3->routers[router].table->lookup_bulk(ips, res, n);
    for (uint16_t j = 0; j < n; ++j) hops[idx[j]] = res[j];
  }

  // 2. Resolve next hops; connected destinations are collected for one bulk neighbor lookup.
  HashBatch neighbors;
  bool keep[kBurstSize];
  for (uint16_t i = 0; i < batch.count; ++i) {
    keep[i] = !routed[i];
    if (!routed[i]) continue;
    rte_mbuf* m = batch.pkts[i];
    PacketMeta& meta = batch.meta[i];
    if (hops[i] == kNoRoute || hops[i] >= l3->next_hops.size()) {
      drop_with_icmp_error(m, meta, rx, ctx, DropReason::kNoRoute, kIcmpDestUnreachable,
                           kIcmpCodeNetUnreachable);
      continue;
    }
    const NextHop& nh = l3->next_hops[hops[i]];
    meta.next_hop = hops[i];
    if (nh.kind == NextHopKind::kLocal) {
      if (is_icmp_echo_request(m, meta)) {
        send_echo_reply(m, meta, rx, ctx);
      } else {
        ctx.drop_routed(m, rx, meta.router, DropReason::kLocalUnsupported);
      }
      continue;
    }
    if (ipv4_of(m, meta)->time_to_live <= 1) {
      drop_with_icmp_error(m, meta, rx, ctx, DropReason::kTtlExceeded, kIcmpTimeExceeded, 0);
      continue;
    }
    if (nh.kind == NextHopKind::kGateway) {
      if (!nh.resolved) {
        drop_with_icmp_error(m, meta, rx, ctx, DropReason::kHostUnreachable, kIcmpDestUnreachable,
                             kIcmpCodeHostUnreachable);
      } else if (nh.port == kNoPort) {
        ctx.drop_routed(m, rx, meta.router, DropReason::kRemoteDestination);
      } else {
        set_destination(meta, nh.dst_mac, nh.port);
        keep[i] = true;
      }
      continue;
    }
    neighbors.add(neighbor_key(nh.network, dst[i]), i);
  }

  neighbors.lookup(l3->neighbors);
  for (uint16_t j = 0; j < neighbors.size(); ++j) {
    const uint16_t i = neighbors.packet(j);
    PacketMeta& meta = batch.meta[i];
    const Neighbor* nb = neighbors.value<Neighbor>(j);
    if (nb == nullptr) {
      drop_with_icmp_error(batch.pkts[i], meta, rx, ctx, DropReason::kHostUnreachable,
                           kIcmpDestUnreachable, kIcmpCodeHostUnreachable);
    } else if (nb->port == kNoPort) {
      ctx.drop_routed(batch.pkts[i], rx, meta.router, DropReason::kRemoteDestination);
    } else {
      set_destination(meta, nb->mac, nb->port);
      keep[i] = true;
    }
  }

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (keep[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
