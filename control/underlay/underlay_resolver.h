// The underlay, from the control thread: which port is the uplink, which underlay neighbour each
// remote host is reached through, ARP for those neighbours (requests sent through worker 0,
// replies punted by the uplink-input stage), and the resulting outer headers published to the
// workers (dp::UnderlayState). Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane.h"
#include "dvr.pb.h"
#include "neighbor_table.h"
#include "outer_header.h"
#include "tenant/tenant_forwarding.h"

namespace dvr {

class UnderlayResolver {
 public:
  explicit UnderlayResolver(dp::Dataplane& dp, NeighborTimers timers = {});

  // Takes the host identity, the remote hosts (with the VTEP indices the tenant state uses) and
  // the dataplane's current ports (minus `leaving_port`), and publishes the paths.
  void configure(const api::v1::HostIdentity& host,
                 const std::map<std::string, api::v1::RemoteHost>& remotes, const IndexMap& vteps,
                 const std::string& leaving_port = {});
  // A frame the workers punted as PuntReason::kUnderlayArp (an ARP reply to our tunnel IP).
  void on_arp_reply(const rte_mbuf* m);
  // Periodic work (every control tick): requests due now, ageing.
  void tick();

  api::v1::UnderlayStatus status() const;

 private:
  struct RemotePath {
    std::string host_id;
    uint32_t ip = 0;
    uint16_t vtep = 0;
    bool routed = false;  // an underlay next hop exists for it
    uint32_t nexthop = 0;
  };

  void publish();
  void send_request(uint32_t target);
  uint64_t now_ms() const;

  dp::Dataplane& dp_;
  NeighborTable neighbors_;
  // The configuration, as last given.
  std::string uplink_name_;
  uint16_t uplink_ = dp::kNoPort;
  Mac uplink_mac_{};
  uint16_t uplink_mtu_ = 1500;
  uint32_t tunnel_ip_ = 0;
  Ipv4Prefix onlink_{};
  uint16_t udp_port_ = 4789;
  std::vector<RemotePath> remotes_;
};

}  // namespace dvr
