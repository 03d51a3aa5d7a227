// IPv4 checks for frames sent to a gateway MAC: header sanity, checksum, lengths, no options, no
// fragments, and the router's admin state. Each failure is a named drop.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class Ip4InputStage final : public Stage {
 public:
  const char* name() const override { return "ip4-input"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
