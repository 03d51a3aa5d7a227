#include "neighbor_table.h"

namespace dvr {

void NeighborTable::set_wanted(const std::set<uint32_t>& ips) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = ips.contains(it->first) ? std::next(it) : entries_.erase(it);
  }
  for (uint32_t ip : ips) entries_.try_emplace(ip);  // next_probe_ms 0: ask at the next tick
}

bool NeighborTable::on_reply(uint32_t ip, const std::array<uint8_t, 6>& mac, uint64_t now_ms) {
  auto it = entries_.find(ip);
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  const bool changed = !e.has_mac || e.mac != mac;
  e.has_mac = true;
  e.mac = mac;
  e.state = State::kReachable;
  e.confirmed_ms = now_ms;
  e.probes = 0;
  e.next_probe_ms = now_ms + timers_.reachable_ms;
  return changed;
}

std::vector<uint32_t> NeighborTable::tick(uint64_t now_ms, bool& changed) {
  std::vector<uint32_t> ask;
  for (auto& [ip, e] : entries_) {
    if (now_ms < e.next_probe_ms) continue;
    if (e.state == State::kReachable) e.state = State::kStale;
    if (e.state == State::kStale && e.probes >= timers_.max_probes) {
      // Nobody answered the re-confirmations: the neighbour is gone (or moved).
      e.state = State::kIncomplete;
      e.has_mac = false;
      e.probes = 0;
      changed = true;
    }
    ask.push_back(ip);
    ++e.probes;
    e.next_probe_ms = now_ms + timers_.probe_interval_ms;
  }
  return ask;
}

const NeighborTable::Entry* NeighborTable::find(uint32_t ip) const {
  auto it = entries_.find(ip);
  return it == entries_.end() ? nullptr : &it->second;
}

const char* NeighborTable::state_name(State s) {
  switch (s) {
    case State::kIncomplete:
      return "incomplete";
    case State::kReachable:
      return "reachable";
    case State::kStale:
      return "stale";
  }
  return "?";
}

}  // namespace dvr
