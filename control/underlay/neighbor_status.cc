#include "neighbor_status.h"

#include <chrono>

#include "net_addr.h"

namespace dvr {

uint64_t steady_now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

void append_neighbor_rows(const NeighborTable& table, uint64_t now_ms,
                          google::protobuf::RepeatedPtrField<api::v1::UnderlayNeighbor>* out) {
  for (const auto& [ip, e] : table.entries()) {
    api::v1::UnderlayNeighbor* n = out->Add();
    n->set_ip(format_ipv4(ip));
    if (e.has_mac) n->set_mac(format_mac(e.mac));
    n->set_state(NeighborTable::state_name(e.state));
    if (e.confirmed_ms != 0) {
      n->set_age_seconds(static_cast<uint32_t>((now_ms - e.confirmed_ms) / 1000));
    }
    n->set_probes(e.probes);
  }
}

}  // namespace dvr
