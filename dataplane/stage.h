// A pipeline stage: takes a burst, finishes the packets it is responsible for (transmit, drop,
// punt) and leaves the rest in the batch, compacted, for the next stage.
//
// Stages are per worker, so they may keep per-worker state without synchronisation. A new
// feature is a new Stage inserted into the chain in pipeline.cc; the worker loop never changes.
#pragma once

#include "batch.h"
#include "worker_context.h"

namespace dvr::dp {

class Stage {
 public:
  virtual ~Stage() = default;
  virtual const char* name() const = 0;
  virtual void process(Batch& batch, WorkerContext& ctx) = 0;
};

}  // namespace dvr::dp
