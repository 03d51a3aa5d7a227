#include "l2_switch.h"

#include "../filter_engine.h"
#include "../hash_batch.h"
#include "../overlay/flood.h"
#include "../overlay/vxlan_encap.h"
#include "../packet.h"

namespace dvr::dp {

namespace {

// Where a switched frame goes once the filters let it.
enum class L2Action : uint8_t { kLocal, kRemote, kFlood };

}  // namespace

void L2SwitchStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;
  const uint16_t rx = batch.rx_port;

  // Pass 1: gateway MACs stay for routing, broadcasts and multicasts are flooded, the rest is
  // looked up in one bulk hash lookup.
  HashBatch fdb;
  bool keep[kBurstSize];
  L2Action action[kBurstSize];
  uint16_t target[kBurstSize];  // kLocal: the port; kRemote: the VTEP index
  DropReason nowhere[kBurstSize];
  uint16_t flood_or_remote[kBurstSize];
  uint16_t n_other = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    keep[i] = false;
    PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork || (meta.flags & kMetaRouted) != 0) {
      keep[i] = true;
      continue;
    }
    rte_mbuf* m = batch.pkts[i];
    const rte_ether_addr& dst = eth_of(m)->dst_addr;
    const NetworkState& net = l3->networks[meta.network];
    if (const int g = net.gateway_index(dst); g >= 0) {
      meta.gateway = static_cast<uint8_t>(g);
      meta.router = net.gateways[g].router;
      keep[i] = true;
    } else if (rte_is_multicast_ether_addr(&dst)) {
      action[i] = L2Action::kFlood;
      nowhere[i] = DropReason::kBroadcastNotFlooded;
      flood_or_remote[n_other++] = i;
    } else {
      fdb.add(l2_key(meta.network, dst), i);
    }
  }

  // Pass 2: local frames are delivered (through the security groups of either end, if any);
  // remote and flooded ones wait for the source port's filters.
  fdb.lookup(l3->l2);
  FilterJob filtered[kBurstSize];
  uint16_t n_filtered = 0;
  const uint16_t src_net = l3->ports[rx].network;
  for (uint16_t j = 0; j < fdb.size(); ++j) {
    const uint16_t i = fdb.packet(j);
    rte_mbuf* m = batch.pkts[i];
    const L2Entry* e = fdb.value<L2Entry>(j);
    if (e == nullptr) {
      action[i] = L2Action::kFlood;
      nowhere[i] = DropReason::kUnknownUnicast;
      flood_or_remote[n_other++] = i;
    } else if (e->port == kNoPort) {
      if (e->vtep == kNoIndex) {
        ctx.drop(m, rx, DropReason::kRemoteDestination);
        continue;
      }
      action[i] = L2Action::kRemote;
      target[i] = e->vtep;
      flood_or_remote[n_other++] = i;
    } else if (filter_applies(*l3, rx, batch.meta[i].network, kNoNetwork, e->port)) {
      action[i] = L2Action::kLocal;
      filtered[n_filtered++] = FilterJob{i, kNoNetwork, e->port};
    } else {
      ctx.transmit(m, e->port);
    }
  }
  // Frames to local ports are here only when a filter applies; remote and flooded frames only
  // meet the source port's security groups here (the destination's apply on the remote host,
  // or per flood copy).
  const bool filters = n_filtered > 0 || l3->ports[rx].sg_egress != nullptr;
  for (uint16_t k = 0; k < n_other; ++k) {
    filtered[n_filtered++] = FilterJob{flood_or_remote[k], kNoNetwork, kNoPort};
  }
  if (n_filtered > 0) {
    const uint16_t passed =
        filters ? run_filters(batch, ctx, src_net, filtered, n_filtered) : n_filtered;
    for (uint16_t j = 0; j < passed; ++j) {
      const uint16_t i = filtered[j].pkt;
      rte_mbuf* m = batch.pkts[i];
      const PacketMeta& meta = batch.meta[i];
      switch (action[i]) {
        case L2Action::kLocal:
          ctx.transmit(m, filtered[j].out_port);
          break;
        case L2Action::kRemote: {
          const EncapResult r = vxlan_output(ctx, m, target[i], l3->networks[meta.network].vni);
          if (r != EncapResult::kQueued) ctx.drop(m, rx, encap_drop_reason(r));
          break;
        }
        case L2Action::kFlood:
          flood_frame(ctx, m, meta, rx, meta.network, /*to_remote=*/true, nowhere[i]);
          break;
      }
    }
  }

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (keep[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
