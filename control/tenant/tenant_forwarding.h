// Turns the tenant model into the state workers read (dp::L3State) and publishes it.
//
// Indices (routers, networks) and next-hop ids are stable for as long as their object lives, so
// that route tables updated in place (the DIR-24-8 tables of very large routers) stay valid across
// versions. A change that introduces next hops is published in two steps: first a version that
// already holds the new next hops, then the route changes, then a version without the next hops
// that are gone. Workers therefore never meet a route whose next hop they cannot read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane.h"
#include "filter_compiler.h"
#include "nat/snat_pool.h"
#include "net_addr.h"
#include "route_table/router_routes.h"
#include "tenant_model.h"

namespace dvr {

// Stable small integers for string ids; freed numbers are reused.
class IndexMap {
 public:
  explicit IndexMap(uint32_t limit) : limit_(limit) {}
  // Returns the id's index, allocating one if needed; nullopt when all are taken.
  std::optional<uint32_t> get_or_add(const std::string& id, bool& added);
  std::optional<uint32_t> find(const std::string& id) const;
  void release(const std::string& id);
  const std::map<std::string, uint32_t>& all() const { return map_; }
  uint32_t size_bound() const { return next_; }  // every index is below this

 private:
  uint32_t limit_;
  uint32_t next_ = 0;
  std::map<std::string, uint32_t> map_;
  std::vector<uint32_t> free_;
};

// An external network this host serves, as last published (for the external resolver and
// `dvrctl external show`).
struct ExternalView {
  std::string network_id, physical_network, port_name;
  uint16_t network = 0;         // index
  uint16_t port = dp::kNoPort;  // kNoPort: no mapping or the port is absent
  uint16_t vlan = 0;
  uint32_t gateway_ip = 0, upstream_ip = 0;
  Mac gateway_mac{};
  bool served = false;                           // port and floating-IP gateway both present
  std::vector<uint32_t> floating_ips, snat_ips;  // translated here
};

// What dvrctl shows about a route.
struct RouteView {
  std::string prefix, origin, nexthop, egress_subnet, nexthop_mac;
};

class TenantForwarding {
 public:
  explicit TenantForwarding(dp::Dataplane& dp);
  ~TenantForwarding();

  // Rebuilds and publishes the workers' tenant state for `model` and the dataplane's ports
  // (minus `leaving_port`, a port about to be removed). Returns an error only when a limit is
  // exceeded; nothing has been published then.
  std::optional<ModelError> apply(const TenantModel& model, const std::string& leaving_port = {});

  std::optional<uint32_t> router_index(const std::string& router_id) const {
    return routers_.find(router_id);
  }
  std::vector<RouteView> routes_of(const std::string& router_id) const;
  // VTEP indices of the remote hosts, as last published (the underlay paths use the same).
  const IndexMap& vteps() const { return vteps_; }
  const FilterCompiler& filters() const { return filters_; }
  // North-south: the external networks, and the SNAT pools of the routers whose SNAT this host
  // serves (by router id), as last published.
  const std::vector<ExternalView>& externals() const { return externals_; }
  const std::map<std::string, std::shared_ptr<dp::SnatPool>>& snat_pools() const {
    return snat_pools_;
  }

 private:
  struct NextHopInfo {
    dp::NextHop hop;
    std::string origin, nexthop, egress_subnet;
  };
  using RouteList = std::vector<std::pair<dp::RoutePrefix, dp::NextHopId>>;

  std::shared_ptr<dp::L3State> build(const TenantModel& model,
                                     const std::map<std::string, uint16_t>& ports,
                                     const std::map<uint32_t, NextHopInfo>& hops);
  // The overlay part of a version: DVR MAC, VTEPs, the VNI and VTEP hashes, flood lists.
  void build_overlay(const TenantModel& model, const std::map<std::string, uint16_t>& ports,
                     dp::L3State& st);
  // The north-south part (north_south_forwarding.cc): served external networks, the addresses
  // this host answers for on them, floating IPs, routers' SNAT; and centralized routers hosted
  // elsewhere, whose gateways become remote L2 destinations.
  void build_north_south(const TenantModel& model, const std::map<std::string, uint16_t>& ports,
                         dp::L3State& st);

  dp::Dataplane& dp_;
  FilterCompiler filters_;
  IndexMap routers_{dp::kMaxRouters};
  IndexMap networks_{dp::kMaxNetworks};
  IndexMap vteps_{dp::kMaxVteps};
  IndexMap next_hop_ids_{1u << 24};       // route tables store 24-bit next hops
  std::map<uint32_t, NextHopInfo> hops_;  // by next-hop id, as last published
  std::map<uint32_t, std::unique_ptr<dp::RouterRoutes>> tables_;  // by router index
  uint64_t hash_serial_ = 0;
  std::vector<ExternalView> externals_;
  std::map<std::string, std::shared_ptr<dp::SnatPool>> snat_pools_;
};

}  // namespace dvr
