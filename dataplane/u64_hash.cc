#include "u64_hash.h"

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>

#include <algorithm>
#include <stdexcept>

namespace dvr::dp {

rte_hash* make_u64_hash(const std::string& name, size_t entries) {
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = static_cast<uint32_t>(std::max<size_t>(64, entries * 2));
  p.key_len = sizeof(uint64_t);
  p.hash_func = rte_hash_crc;
  p.socket_id = static_cast<int>(rte_socket_id());
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) throw std::runtime_error("cannot create hash table " + name);
  return h;
}

}  // namespace dvr::dp
