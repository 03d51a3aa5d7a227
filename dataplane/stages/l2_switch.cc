#include "l2_switch.h"

#include <rte_hash.h>

#include "../packet.h"

namespace dvr::dp {

void L2SwitchStage::process(Batch& batch, WorkerContext& ctx) {
  const L3State* l3 = ctx.l3();
  if (l3 == nullptr) return;

  // Pass 1: gateway MACs stay for routing, broadcasts are dropped, the rest is looked up in
  // one bulk hash lookup.
  uint64_t keys[kBurstSize];
  const void* key_ptrs[kBurstSize];
  uint16_t lookup_idx[kBurstSize];
  bool keep[kBurstSize];
  uint16_t n_lookup = 0;
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
    bool to_gateway = false;
    for (uint8_t g = 0; g < net.gateway_count; ++g) {
      if (rte_is_same_ether_addr(&dst, &net.gateways[g].mac)) {
        meta.gateway = g;
        meta.router = net.gateways[g].router;
        to_gateway = true;
        break;
      }
    }
    if (to_gateway) {
      keep[i] = true;
    } else if (rte_is_multicast_ether_addr(&dst)) {
      ctx.drop(m, batch.rx_port, DropReason::kBroadcastNotFlooded);
      batch.pkts[i] = nullptr;
    } else {
      keys[n_lookup] = l2_key(meta.network, dst);
      key_ptrs[n_lookup] = &keys[n_lookup];
      lookup_idx[n_lookup++] = i;
    }
  }

  // Pass 2: deliver the L2 frames.
  if (n_lookup > 0) {
    uint64_t hits = 0;
    void* data[kBurstSize];
    if (l3->l2 != nullptr) {
      rte_hash_lookup_bulk_data(l3->l2, key_ptrs, n_lookup, &hits, data);
    }
    for (uint16_t j = 0; j < n_lookup; ++j) {
      const uint16_t i = lookup_idx[j];
      rte_mbuf* m = batch.pkts[i];
      if ((hits & (uint64_t{1} << j)) == 0) {
        ctx.drop(m, batch.rx_port, DropReason::kUnknownUnicast);
      } else if (const auto* e = static_cast<const L2Entry*>(data[j]); e->port == kNoPort) {
        ctx.drop(m, batch.rx_port, DropReason::kRemoteDestination);
      } else {
        ctx.transmit(m, e->port);
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
