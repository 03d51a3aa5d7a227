#include "external_neighbors.h"

#include <rte_hash.h>

namespace dvr::dp {

ExternalNeighbors::~ExternalNeighbors() {
  rte_hash_free(macs);
}

}  // namespace dvr::dp
