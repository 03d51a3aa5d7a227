// The underlay neighbour table: which underlay addresses dvrd needs a MAC for (the next hops
// towards remote hosts), what it knows, and when to ask again. No I/O and no DPDK: the resolver
// (underlay_resolver.h) sends what this table asks for and feeds it the replies, so the state
// machine can be tested with a fake clock.
//
//   incomplete --reply--> reachable --reachable_ms--> stale --reply--> reachable
//       ^                                               |
//       +------------- max_probes unanswered -----------+
//
// An incomplete entry is asked for every probe_interval_ms; a stale one keeps its MAC (traffic
// still flows) while it is probed, and loses it after max_probes requests go unanswered.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace dvr {

struct NeighborTimers {
  uint64_t reachable_ms = 30000;  // a reply stands this long before it is re-confirmed
  uint64_t probe_interval_ms = 1000;
  uint32_t max_probes = 3;  // unanswered re-confirmations before the MAC is dropped
};

class NeighborTable {
 public:
  enum class State { kIncomplete, kReachable, kStale };
  struct Entry {
    State state = State::kIncomplete;
    bool has_mac = false;
    std::array<uint8_t, 6> mac{};
    uint64_t confirmed_ms = 0;  // last reply
    uint64_t next_probe_ms = 0;
    uint32_t probes = 0;  // requests since the last reply
  };

  explicit NeighborTable(NeighborTimers timers = {}) : timers_(timers) {}

  // The addresses that must be resolved; entries for others are forgotten, new ones start
  // incomplete and are asked for at the next tick.
  void set_wanted(const std::set<uint32_t>& ips);
  // A reply from `ip`. True when what the table resolves changed (new or different MAC).
  // Replies from addresses nobody asked for are ignored (no unsolicited learning).
  bool on_reply(uint32_t ip, const std::array<uint8_t, 6>& mac, uint64_t now_ms);
  // Advances the clock: returns the addresses to send a request to now. Sets `changed` when an
  // entry lost its MAC.
  std::vector<uint32_t> tick(uint64_t now_ms, bool& changed);

  const Entry* find(uint32_t ip) const;
  const std::map<uint32_t, Entry>& entries() const { return entries_; }
  static const char* state_name(State s);

 private:
  NeighborTimers timers_;
  std::map<uint32_t, Entry> entries_;
};

}  // namespace dvr
