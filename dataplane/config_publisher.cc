#include "config_publisher.h"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <stdexcept>

namespace dvr::dp {

ConfigPublisher::ConfigPublisher(unsigned worker_count) {
  const unsigned threads = worker_count == 0 ? 1 : worker_count;
  const size_t size = rte_rcu_qsbr_get_memsize(threads);
  qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("dvr_qsbr", size, RTE_CACHE_LINE_SIZE));
  if (qsbr_ == nullptr || rte_rcu_qsbr_init(qsbr_, threads) != 0) {
    rte_free(qsbr_);
    throw std::runtime_error("cannot allocate the RCU state for the workers");
  }
  current_.store(new ForwardingConfig{}, std::memory_order_release);
}

ConfigPublisher::~ConfigPublisher() {
  delete current_.load();
  rte_free(qsbr_);
}

void ConfigPublisher::publish(std::unique_ptr<ForwardingConfig> next) {
  next->generation = current().generation + 1;
  const ForwardingConfig* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  // Workers report a quiescent state once per loop iteration and go offline while they sleep,
  // so this returns within one iteration of the slowest busy worker.
  rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  delete old;
}

}  // namespace dvr::dp
