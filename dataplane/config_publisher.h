// Publishes ForwardingConfig versions to workers and reclaims old ones with RCU (rte_rcu_qsbr).
#pragma once

#include <atomic>
#include <memory>

#include "forwarding_config.h"

struct rte_rcu_qsbr;

namespace dvr::dp {

class ConfigPublisher {
 public:
  explicit ConfigPublisher(unsigned worker_count);
  ~ConfigPublisher();
  ConfigPublisher(const ConfigPublisher&) = delete;
  ConfigPublisher& operator=(const ConfigPublisher&) = delete;

  // Control thread. Swaps in `next` and returns once no worker can still hold the old version,
  // which is then freed. Forwarding continues throughout: workers only ever read either version.
  void publish(std::unique_ptr<ForwardingConfig> next);

  // The current version, for the control thread to copy and modify.
  const ForwardingConfig& current() const { return *current_.load(std::memory_order_acquire); }

  // Worker side.
  const ForwardingConfig* acquire() const { return current_.load(std::memory_order_acquire); }
  rte_rcu_qsbr* qsbr() const { return qsbr_; }

 private:
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<const ForwardingConfig*> current_;
};

}  // namespace dvr::dp
