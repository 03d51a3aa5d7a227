#pragma once

#include "../stage.h"

namespace dvr::dp {

// nat44-out: packets ip4-lookup routed to a router's external gateway. The source is translated
// to the VM's floating IP (stateless, on the VM's own host) or, without one, to the router's SNAT
// address with a session (when this host serves the router's SNAT); otherwise the packet goes
// over the overlay to the host that does. Translated packets leave on the external network with
// this host's floating-IP gateway MAC, or turn around here when addressed to a floating IP or
// SNAT address this host serves (hairpin). See docs/north-south.md.
class Nat44OutStage final : public Stage {
 public:
  const char* name() const override { return "nat44-out"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
