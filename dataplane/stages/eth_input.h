// First stage: validates the Ethernet header and records the ethertype and L3 offset.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class EthInputStage final : public Stage {
 public:
  const char* name() const override { return "eth-input"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
