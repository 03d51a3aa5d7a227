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

  dp::Dataplane& dp_;
  FilterCompiler filters_;
  IndexMap routers_{dp::kMaxRouters};
  IndexMap networks_{dp::kMaxNetworks};
  IndexMap vteps_{dp::kMaxVteps};
  IndexMap next_hop_ids_{1u << 24};       // route tables store 24-bit next hops
  std::map<uint32_t, NextHopInfo> hops_;  // by next-hop id, as last published
  std::map<uint32_t, std::unique_ptr<dp::RouterRoutes>> tables_;  // by router index
  uint64_t hash_serial_ = 0;
};

}  // namespace dvr
