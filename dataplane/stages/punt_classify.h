// Sends the packets only the control thread can handle (ARP for now) down the exception path.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class PuntClassifyStage final : public Stage {
 public:
  const char* name() const override { return "punt"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
