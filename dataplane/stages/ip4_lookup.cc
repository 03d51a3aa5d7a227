#include "ip4_lookup.h"

#include <rte_ip.h>

#include <cstring>

#include "../icmp.h"
#include "../packet.h"
#include "../route_table/route_table.h"

namespace dvr::dp {

namespace {

void set_destination(PacketMeta& meta, const rte_ether_addr& mac, uint16_t port) {
  std::memcpy(meta.dst_mac, mac.addr_bytes, sizeof(meta.dst_mac));
  meta.out_port = port;
}

// The general case: packets of several routers (or some not routed) in one burst.
void lookup_per_router(const Batch& batch, const L3State& l3, const bool* routed,
                       const uint32_t* dst, uint32_t* hops) {
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
    l3.routers[router].table->lookup_bulk(ips, res, n);
    for (uint16_t j = 0; j < n; ++j) hops[idx[j]] = res[j];
  }
}

}  // namespace

void Ip4LookupStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  const uint16_t rx = batch.rx_port;

  // 1. Route lookup, batched per router. A VM port's burst nearly always has one router: then
  //    the whole burst is one bulk lookup; otherwise one per router present.
  uint32_t dst[kBurstSize];
  uint32_t hops[kBurstSize];
  bool routed[kBurstSize];
  bool one_router = true;
  uint16_t router0 = kNoIndex;
  for (uint16_t i = 0; i < batch.count; ++i) {
    routed[i] = batch.meta[i].network != kNoNetwork;
    dst[i] = 0;
    if (!routed[i]) {
      one_router = false;
      continue;
    }
    dst[i] = rte_be_to_cpu_32(ipv4_of(batch.pkts[i], batch.meta[i])->dst_addr);
    if (router0 == kNoIndex) router0 = batch.meta[i].router;
    one_router &= batch.meta[i].router == router0;
  }
  if (router0 == kNoIndex) return;  // nothing to route
  if (one_router) {
    l3->routers[router0].table->lookup_bulk(dst, hops, batch.count);
  } else {
    lookup_per_router(batch, *l3, routed, dst, hops);
  }

  // 2. Resolve next hops. Every known VM address has its own /32 with the neighbor's MAC and
  //    port already in the next hop, so no hash lookup is needed here.
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
    if (nh.kind == NextHopKind::kExternal) {
      // nat44-out translates it and picks the external next hop.
      meta.flags |= kMetaExternal;
      meta.out_port = kNoPort;
      keep[i] = true;
      continue;
    }
    // A connected route's own hit (no /32 for the address) and an unresolved static-route
    // gateway both mean nobody has the address.
    if (nh.kind != NextHopKind::kGateway || !nh.resolved) {
      drop_with_icmp_error(m, meta, rx, ctx, DropReason::kHostUnreachable, kIcmpDestUnreachable,
                           kIcmpCodeHostUnreachable);
    } else if (nh.port == kNoPort && nh.vtep == kNoIndex) {
      ctx.drop_routed(m, rx, meta.router, DropReason::kRemoteDestination);
    } else {
      // A VM on another host keeps out_port = kNoPort: ip4-rewrite sends it over the overlay.
      set_destination(meta, nh.dst_mac, nh.port);
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
