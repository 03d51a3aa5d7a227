// What the underlay and external resolvers share about their neighbour tables: the clock they
// run it on, and how a table is shown in the API (UnderlayNeighbor rows).
#pragma once

#include <google/protobuf/repeated_field.h>

#include <cstdint>

#include "dvr.pb.h"
#include "neighbor_table.h"

namespace dvr {

// Milliseconds of the steady clock (the neighbour tables' timers).
uint64_t steady_now_ms();

// Appends one row per entry of `table` to `out`.
void append_neighbor_rows(const NeighborTable& table, uint64_t now_ms,
                          google::protobuf::RepeatedPtrField<api::v1::UnderlayNeighbor>* out);

}  // namespace dvr
