// The forwarding rewrite: TTL - 1 with an incremental checksum update, source MAC = the egress
// interface's gateway MAC, destination MAC = the resolved neighbor; then transmit.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class Ip4RewriteStage final : public Stage {
 public:
  const char* name() const override { return "ip4-rewrite"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
