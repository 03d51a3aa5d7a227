// One pass of frames through the real pipeline, for the tests that drive a Dataplane and its
// TenantApi directly: each named port is a pcap port (rx file in, tx file out) bound to its VM
// port by name; worker 0 polls until the ports are quiet; then the ports are unbound and
// removed, and what each transmitted is read back.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dataplane.h"
#include "pcap_io.h"
#include "tenant_api.h"

namespace dvr::test {

class PcapPorts {
 public:
  PcapPorts(dp::Dataplane& dp, TenantApi& api, std::string dir, std::vector<std::string> names)
      : dp_(dp), api_(api), dir_(std::move(dir)), names_(std::move(names)) {}

  // Sends `frames` into port `in`; returns what every port transmitted. `added` runs once the
  // ports exist and are bound, before any packet is polled; `polled(i)` after the i-th poll
  // (from 0) that received packets, so a test can change things between bursts.
  std::map<std::string, std::vector<Frame>> run(const std::string& in,
                                                const std::vector<Frame>& frames,
                                                const std::function<void()>& added = {},
                                                const std::function<void(int)>& polled = {});

  // Counters of the last run, taken before the ports were removed.
  const std::vector<dp::PortStatsSnapshot>& last_stats() const { return last_stats_; }

 private:
  dp::Dataplane& dp_;
  TenantApi& api_;
  std::string dir_;
  std::vector<std::string> names_;
  std::vector<dp::PortStatsSnapshot> last_stats_;
};

// The drops of `port` under `r` in `stats` (0 for a port not in it).
uint64_t port_drops(const std::vector<dp::PortStatsSnapshot>& stats, const std::string& port,
                    dp::DropReason r);

}  // namespace dvr::test
