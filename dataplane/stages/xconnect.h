// L2 patch: a port configured with an xconnect peer sends every frame, unmodified, out of that
// peer (VPP's "l2 xconnect"). Used to splice two ports together and as the simplest forwarding
// path for tests and benchmarks.
#pragma once

#include "../stage.h"

namespace dvr::dp {

class XconnectStage final : public Stage {
 public:
  const char* name() const override { return "xconnect"; }
  void process(Batch& batch, WorkerContext& ctx) override;
};

}  // namespace dvr::dp
