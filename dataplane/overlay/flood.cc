#include "flood.h"

#include <rte_mbuf.h>

#include "../filter_engine.h"
#include "vxlan_encap.h"

namespace dvr::dp {

namespace {

// Hands out the frame for each target: copies for all but the last, the frame itself last, so a
// frame with one target is never copied.
class Replicas {
 public:
  Replicas(WorkerContext& ctx, rte_mbuf* m, uint32_t targets) : ctx_(ctx), m_(m), left_(targets) {}
  // nullptr when the pool is out of buffers (that target misses the frame).
  rte_mbuf* next() {
    if (--left_ == 0) return m_;
    rte_mbuf* c = rte_pktmbuf_copy(m_, m_->pool, 0, UINT32_MAX);
    if (c != nullptr) ctx_.counters().flood_copies.inc();
    return c;
  }

 private:
  WorkerContext& ctx_;
  rte_mbuf* m_;
  uint32_t left_;
};

// Copies to local ports with security groups, judged together by their ingress rules.
class FilteredCopies {
 public:
  FilteredCopies(WorkerContext& ctx, uint16_t rx_port, const PacketMeta& meta)
      : ctx_(ctx), meta_(meta) {
    batch_.rx_port = rx_port;
  }
  ~FilteredCopies() { flush(); }
  void add(rte_mbuf* c, uint16_t port) {
    jobs_[batch_.count] = FilterJob{batch_.count, kNoNetwork, port};
    batch_.pkts[batch_.count] = c;
    batch_.meta[batch_.count++] = meta_;
    if (batch_.count == kBurstSize) flush();
  }

 private:
  void flush() {
    if (batch_.count == 0) return;
    const uint16_t passed =
        run_filters(batch_, ctx_, kNoNetwork, jobs_, batch_.count, /*source_checked=*/true);
    for (uint16_t j = 0; j < passed; ++j)
      ctx_.transmit(batch_.pkts[jobs_[j].pkt], jobs_[j].out_port);
    batch_.count = 0;
  }

  WorkerContext& ctx_;
  const PacketMeta& meta_;
  Batch batch_;
  FilterJob jobs_[kBurstSize];
};

}  // namespace

void flood_frame(WorkerContext& ctx, rte_mbuf* m, const PacketMeta& meta, uint16_t rx_port,
                 uint16_t network, bool to_remote, DropReason nowhere) {
  const L3State& l3 = *ctx.l3();
  const NetworkState& net = l3.networks[network];
  const uint16_t* ports = l3.flood_ports.data() + net.flood_ports_begin;
  const uint16_t* vteps = l3.flood_vteps.data() + net.flood_vteps_begin;
  const uint16_t n_vteps = to_remote ? net.flood_vteps_count : 0;
  uint32_t targets = n_vteps;
  for (uint16_t k = 0; k < net.flood_ports_count; ++k) targets += ports[k] != rx_port;
  if (targets == 0) {
    ctx.drop(m, rx_port, nowhere);
    return;
  }

  Replicas replicas(ctx, m, targets);
  for (uint16_t k = 0; k < n_vteps; ++k) {
    rte_mbuf* c = replicas.next();
    if (c == nullptr) {
      ctx.count_drop(rx_port, kNoIndex, DropReason::kFloodNoMbuf);
      continue;
    }
    const EncapResult r = vxlan_output(ctx, c, vteps[k], net.vni);
    if (r != EncapResult::kQueued) ctx.drop(c, rx_port, encap_drop_reason(r));
  }
  FilteredCopies filtered(ctx, rx_port, meta);
  for (uint16_t k = 0; k < net.flood_ports_count; ++k) {
    const uint16_t port = ports[k];
    if (port == rx_port) continue;
    rte_mbuf* c = replicas.next();
    if (c == nullptr) {
      ctx.count_drop(rx_port, kNoIndex, DropReason::kFloodNoMbuf);
    } else if (l3.ports[port].sg_ingress != nullptr) {
      filtered.add(c, port);
    } else {
      ctx.transmit(c, port);
    }
  }
}

}  // namespace dvr::dp
