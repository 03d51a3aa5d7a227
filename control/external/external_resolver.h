// External networks, from the control thread: ARP for the neighbours there (the upstream
// router, on-link hosts, other hosts' floating IPs) asked from this host's floating-IP gateway
// address, replies and announcements learnt from what external-input punts, gratuitous ARP when
// a floating IP or SNAT address starts being served here, and the MACs published to the workers
// (dp::ExternalNeighbors). Control thread only.
//
// The upstream router of every served network is always resolved. Other neighbours are resolved
// on demand: nat44-out punts a packet whose next hop has no MAC (PuntReason::kExternalResolve),
// and that address is asked for; an on-demand address nobody answers is forgotten after the
// neighbour table's probes, and at most kMaxOnDemand are kept per network.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "dataplane.h"
#include "dvr.pb.h"
#include "tenant/tenant_forwarding.h"
#include "underlay/neighbor_table.h"

namespace dvr {

class ExternalResolver {
 public:
  static constexpr size_t kMaxOnDemand = 1024;
  static constexpr int kGratuitousArps = 3;  // per new address, one a tick-second apart

  explicit ExternalResolver(dp::Dataplane& dp, NeighborTimers timers = {});

  // The external networks as just published.
  void configure(const std::vector<ExternalView>& externals);
  // Punted frames: an ARP frame received on external port `port`; a packet whose next hop
  // needs resolving.
  void on_arp(const rte_mbuf* m, uint16_t port);
  void on_resolve(const rte_mbuf* m);
  // Periodic work: requests due now, ageing, pending gratuitous ARPs.
  void tick();

  api::v1::ExternalStatus status() const;

 private:
  struct Net {
    ExternalView view;
    NeighborTable table;
    std::set<uint32_t> on_demand;
    std::map<uint32_t, int> announce;  // address -> gratuitous ARPs still to send
    uint64_t next_announce_ms = 0;
    explicit Net(NeighborTimers t) : table(t) {}
  };

  void set_wanted(Net& n);
  void tick_net(Net& n, uint64_t now, bool& changed);
  void send_arp(const Net& n, uint32_t sender_ip, uint32_t target_ip);
  void publish();
  uint64_t now_ms() const;

  dp::Dataplane& dp_;
  NeighborTimers timers_;
  std::map<uint16_t, Net> nets_;   // by network index, served networks only
  std::vector<ExternalView> all_;  // served or not, for status()
  uint64_t serial_ = 0;
};

}  // namespace dvr
