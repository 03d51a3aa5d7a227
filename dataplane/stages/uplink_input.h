// Everything that arrives on the overlay uplink: underlay ARP (answered for our tunnel IP,
// replies handed to the control thread to learn the neighbour), ping to the tunnel IP, and VXLAN
// from other hosts, decapsulated and delivered to local VM ports. Only frames another host sent
// here to be routed (for a router's default SNAT, or to the gateway of a centralized router this
// host hosts) go further down the chain.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class UplinkInputStage final : public Stage {
 public:
  const char* name() const override { return "uplink-input"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
