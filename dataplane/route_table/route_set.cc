#include "route_set.h"

#include <stdexcept>
#include <string>

namespace dvr::dp {

RoutePrefix RouteSet::normalize(RoutePrefix p) {
  if (p.depth > 32) {
    throw std::invalid_argument("route prefix depth " + std::to_string(p.depth) +
                                " is out of range (0..32)");
  }
  return {p.addr & prefix_mask(p.depth), p.depth};
}

std::optional<NextHopId> RouteSet::find(RoutePrefix p) const {
  const auto it = map_.find(key(p));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void RouteSet::set(RoutePrefix p, NextHopId hop) {
  const auto [it, inserted] = map_.try_emplace(key(p), hop);
  if (inserted) {
    ++per_depth_[p.depth];
  } else {
    it->second = hop;
  }
}

bool RouteSet::erase(RoutePrefix p) {
  if (map_.erase(key(p)) == 0) return false;
  --per_depth_[p.depth];
  return true;
}

NextHopId RouteSet::covering_hop(RoutePrefix p) const {
  for (int d = p.depth - 1; d >= 0; --d) {
    if (per_depth_[d] == 0) continue;
    const auto it = map_.find({p.addr & prefix_mask(d), static_cast<uint8_t>(d)});
    if (it != map_.end()) return it->second;
  }
  return kNoRoute;
}

std::vector<AddrRange> RouteSet::uncovered(RoutePrefix p) const {
  std::vector<AddrRange> out;
  const uint64_t end = prefix_end(p.addr, p.depth);
  uint64_t cursor = p.addr;
  // Strictly longer routes inside p: same address with a greater depth, then higher addresses
  // below `end`. After each child, jump past its range so that its own children are skipped.
  auto it = map_.lower_bound({p.addr, static_cast<uint8_t>(p.depth + 1)});
  while (it != map_.end() && it->first.first < end) {
    const uint64_t child_start = it->first.first;
    const uint64_t child_end = prefix_end(it->first.first, it->first.second);
    if (child_start > cursor) {
      out.push_back({static_cast<uint32_t>(cursor), static_cast<uint32_t>(child_start - 1)});
    }
    cursor = child_end;
    if (child_end >= end) break;
    it = map_.lower_bound({static_cast<uint32_t>(child_end), 0});
  }
  if (cursor < end) {
    out.push_back({static_cast<uint32_t>(cursor), static_cast<uint32_t>(end - 1)});
  }
  return out;
}

NextHopId RouteSet::lookup(uint32_t ip) const {
  for (int d = 32; d >= 0; --d) {
    if (per_depth_[d] == 0) continue;
    const auto it = map_.find({ip & prefix_mask(d), static_cast<uint8_t>(d)});
    if (it != map_.end()) return it->second;
  }
  return kNoRoute;
}

std::vector<HopRange> RouteSet::flatten() const {
  std::vector<HopRange> out;
  out.reserve(2 * map_.size() + 1);
  // Starts a range at `start`; a later call for the same start overrides the earlier one, and a
  // range with the same next hop as the one before it is merged into it.
  const auto emit = [&out](uint64_t start, NextHopId hop) {
    if (start > UINT32_MAX) return;  // the end of the address space
    if (!out.empty() && out.back().start == start) {
      out.back().hop = hop;
      if (out.size() >= 2 && out[out.size() - 2].hop == hop) out.pop_back();
      return;
    }
    if (!out.empty() && out.back().hop == hop) return;
    out.push_back({static_cast<uint32_t>(start), hop});
  };
  struct Open {
    uint64_t end;
    NextHopId hop;
  };
  // Routes in (address, depth) order visit a parent before its children; prefixes either nest
  // or are disjoint, so the open ones form a stack of ever narrower ranges.
  std::vector<Open> open;
  const auto close_until = [&](uint64_t pos) {
    while (!open.empty() && open.back().end <= pos) {
      const uint64_t end = open.back().end;
      open.pop_back();
      emit(end, open.empty() ? kNoRoute : open.back().hop);
    }
  };
  emit(0, kNoRoute);
  for (const auto& [k, hop] : map_) {
    close_until(k.first);
    emit(k.first, hop);
    open.push_back({prefix_end(k.first, k.second), hop});
  }
  close_until(uint64_t{1} << 32);
  return out;
}

}  // namespace dvr::dp
