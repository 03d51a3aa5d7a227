// Binds frames from a VM port to the port's network and enforces port security: the source MAC
// and source IP (ARP sender IP for ARP) must be the VM port's own, or an allowed address pair's.
// Frames from ports bound to no VM port pass through untouched (network = kNoNetwork).
#pragma once

#include "../stage.h"

namespace dvr::dp {

class PortInputStage final : public Stage {
 public:
  const char* name() const override { return "port-input"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
