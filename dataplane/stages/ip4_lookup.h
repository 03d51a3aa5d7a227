// Route lookup in each router's own table (one bulk lookup per router present in the burst),
// then next-hop resolution: the router's own addresses (echo replies), TTL expiry, connected
// destinations through the neighbor table (one bulk hash lookup), static-route gateways.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class Ip4LookupStage final : public Stage {
 public:
  const char* name() const override { return "ip4-lookup"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
