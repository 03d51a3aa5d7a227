// The fast path for the common case: IPv4 from a VM port, to its gateway, passing port security
// and the IPv4 checks, with a route whose next hop is a resolved local VM. Such packets are
// checked, looked up (one bulk lookup for the burst), rewritten and sent in one pass over the
// burst. Everything else is left untouched for the staged chain after it (port-input, arp,
// l2-switch, ip4-input, ip4-lookup, ip4-rewrite), which applies the very same rules (shared in
// port_security.h, ip4_checks.h, packet.h) and names every drop.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class Ip4FastStage final : public Stage {
 public:
  const char* name() const override { return "ip4-fast"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
