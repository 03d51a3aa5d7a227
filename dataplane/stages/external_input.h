#pragma once

#include "../stage.h"

namespace dvr::dp {

// external-input: frames on a port that reaches external networks (through the host's physnet
// mapping). ARP for the addresses this host serves there is answered with its floating-IP
// gateway MAC, ARP from neighbours is punted so that the control thread learns them, ping to the
// gateway address and the SNAT addresses is answered, and IPv4 to a floating IP (DNAT) or to a
// SNAT address (the session's reverse translation) is translated and left for the routing stages
// of its router. Everything else is dropped with a reason. See docs/north-south.md.
class ExternalInputStage final : public Stage {
 public:
  const char* name() const override { return "external-input"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
