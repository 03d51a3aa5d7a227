#include "l3_state.h"

#include <rte_hash.h>

#include "nat/snat_pool.h"

namespace dvr::dp {

L3State::~L3State() {
  rte_hash_free(neighbors);
  rte_hash_free(l2);
  rte_hash_free(vni_networks);
  rte_hash_free(vtep_by_ip);
  rte_hash_free(ext_addrs);
  rte_hash_free(fip_by_fixed);
}

}  // namespace dvr::dp
