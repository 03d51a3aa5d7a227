#include "pipeline.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <stdexcept>

#include "stages/arp.h"
#include "stages/eth_input.h"
#include "stages/external_input.h"
#include "stages/filter.h"
#include "stages/ip4_fast.h"
#include "stages/ip4_input.h"
#include "stages/ip4_lookup.h"
#include "stages/ip4_rewrite.h"
#include "stages/l2_switch.h"
#include "stages/nat44_out.h"
#include "stages/port_input.h"
#include "stages/punt_classify.h"
#include "stages/uplink_input.h"
#include "stages/xconnect.h"

namespace dvr::dp {

Pipeline Pipeline::standard() {
  Pipeline p;
  // ip4-fast first: when it routes the whole burst (the common case), nothing else runs, not
  // even eth-input's parsing pass (it parses the untagged IPv4 frames it takes itself).
  p.add(std::make_unique<Ip4FastStage>());
  p.add(std::make_unique<EthInputStage>());
  p.add(std::make_unique<XconnectStage>());
  p.add(std::make_unique<UplinkInputStage>());
  p.add(std::make_unique<ExternalInputStage>());
  p.add(std::make_unique<PortInputStage>());
  p.add(std::make_unique<ArpStage>());
  p.add(std::make_unique<L2SwitchStage>());
  p.add(std::make_unique<Ip4InputStage>());
  p.add(std::make_unique<Ip4LookupStage>());
  p.add(std::make_unique<FilterStage>());
  p.add(std::make_unique<Nat44OutStage>());
  p.add(std::make_unique<Ip4RewriteStage>());
  p.add(std::make_unique<PuntClassifyStage>());
  return p;
}

void Pipeline::add(std::unique_ptr<Stage> stage) {
  if (stages_.size() == kMaxStages) throw std::length_error("too many pipeline stages");
  stages_.push_back(std::move(stage));
}

void Pipeline::run(Batch& batch, WorkerContext& ctx) {
  StageCounters* counters = ctx.counters().stages;
  if (++bursts_ % kStageTimingPeriod != 0) {
    for (size_t i = 0; i < stages_.size() && batch.count > 0; ++i) {
      counters[i].packets.add(batch.count);
      stages_[i]->process(batch, ctx);
    }
  } else {
    for (size_t i = 0; i < stages_.size() && batch.count > 0; ++i) {
      const uint64_t start = rte_rdtsc();
      counters[i].packets.add(batch.count);
      counters[i].timed_packets.add(batch.count);
      stages_[i]->process(batch, ctx);
      counters[i].cycles.add(rte_rdtsc() - start);
    }
  }
  for (uint16_t i = 0; i < batch.count; ++i) {
    ctx.drop(batch.pkts[i], batch.rx_port, DropReason::kNoForwardingPath);
  }
  batch.count = 0;
}

}  // namespace dvr::dp
