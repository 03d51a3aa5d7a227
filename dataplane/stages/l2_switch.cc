#include "l2_switch.h"

#include "../filter_engine.h"
#include "../hash_batch.h"
#include "../packet.h"

namespace dvr::dp {

void L2SwitchStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;

  // Pass 1: gateway MACs stay for routing, broadcasts are dropped, the rest is looked up in
  // one bulk hash lookup.
  HashBatch fdb;
  bool keep[kBurstSize];
  for (uint16_t i = 0; i < batch.count; ++i) {
    keep[i] = false;
    PacketMeta& meta = batch.meta[i];
    if (meta.network == kNoNetwork) {
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
      ctx.drop(m, batch.rx_port, DropReason::kBroadcastNotFlooded);
      batch.pkts[i] = nullptr;
    } else {
      fdb.add(l2_key(meta.network, dst), i);
    }
  }

  // Pass 2: deliver the L2 frames; those to or from a port with security groups are filtered
  // first.
  fdb.lookup(l3->l2);
  FilterJob filtered[kBurstSize];
  uint16_t n_filtered = 0;
  for (uint16_t j = 0; j < fdb.size(); ++j) {
    const uint16_t i = fdb.packet(j);
    rte_mbuf* m = batch.pkts[i];
    const L2Entry* e = fdb.value<L2Entry>(j);
    if (e == nullptr) {
      ctx.drop(m, batch.rx_port, DropReason::kUnknownUnicast);
    } else if (e->port == kNoPort) {
      ctx.drop(m, batch.rx_port, DropReason::kRemoteDestination);
    } else if (filter_applies(*l3, batch.rx_port, batch.meta[i].network, kNoNetwork, e->port)) {
      filtered[n_filtered++] = FilterJob{i, kNoNetwork, e->port};
    } else {
      ctx.transmit(m, e->port);
    }
  }
  if (n_filtered > 0) {
    const uint16_t src_net = l3->ports[batch.rx_port].network;
    const uint16_t passed = run_filters(batch, ctx, src_net, filtered, n_filtered);
    for (uint16_t j = 0; j < passed; ++j)
      ctx.transmit(batch.pkts[filtered[j].pkt], filtered[j].out_port);
  }

  uint16_t out = 0;
  for (uint16_t i = 0; i < batch.count; ++i) {
    if (keep[i]) batch.keep(out, i);
  }
  batch.count = out;
}

}  // namespace dvr::dp
