// L2 inside a network: frames to a gateway MAC go on to routing; frames to a known VM MAC on the
// same network are delivered as they are; broadcast and unknown unicast are dropped and counted
// (ARP was answered earlier; flooding between hosts comes with the overlay).
#pragma once

#include "../stage.h"

namespace dvr::dp {

class L2SwitchStage final : public Stage {
 public:
  const char* name() const override { return "l2-switch"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
