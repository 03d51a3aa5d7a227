// The chain of stages a burst runs through, with per-stage packet and cycle counters.
#pragma once

#include <memory>
#include <vector>

#include "stage.h"

namespace dvr::dp {

class Pipeline {
 public:
  // The production chain: ip4-fast, eth-input, xconnect, port-input, arp, l2-switch,
  // ip4-input, ip4-lookup, filter, ip4-rewrite, punt, then the drop of whatever is left.
  static Pipeline standard();

  void add(std::unique_ptr<Stage> stage);
  // Runs the burst through every stage. Packets no stage finished are dropped as
  // DropReason::kNoForwardingPath.
  void run(Batch& batch, WorkerContext& ctx);

  size_t size() const { return stages_.size(); }
  const char* stage_name(size_t i) const { return stages_[i]->name(); }

 private:
  std::vector<std::unique_ptr<Stage>> stages_;
  uint32_t bursts_ = 0;
};

}  // namespace dvr::dp
