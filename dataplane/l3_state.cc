#include "l3_state.h"

#include <rte_hash.h>

namespace dvr::dp {

L3State::~L3State() {
  rte_hash_free(neighbors);
  rte_hash_free(l2);
  rte_hash_free(vni_networks);
  rte_hash_free(vtep_by_ip);
}

}  // namespace dvr::dp
