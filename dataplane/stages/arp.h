// ARP for VM ports, answered in the fast path: requests for a gateway address get the gateway
// MAC, requests for any other known address on the network get that VM's MAC (ARP suppression:
// nothing is flooded). Everything else ARP is dropped with a reason.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class ArpStage final : public Stage {
 public:
  const char* name() const override { return "arp"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
