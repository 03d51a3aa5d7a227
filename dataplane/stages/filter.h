// filter: network ACLs and security groups on routed packets, between the route lookup (which
// decided the egress network and port) and the rewrite. See filter_engine.h.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class FilterStage final : public Stage {
 public:
  const char* name() const override { return "filter"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
