// Route lookup in each router's own table (one bulk lookup per router present in the burst),
// then next-hop handling: the router's own addresses (echo replies), TTL expiry, and resolved
// neighbors (every known VM address is a /32 whose next hop carries its MAC and port).
#pragma once

#include "../stage.h"

namespace dvr::dp {

class Ip4LookupStage final : public Stage {
 public:
  const char* name() const override { return "ip4-lookup"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
