// The tenant topology the pipeline benchmarks run against, configured through TenantApi exactly
// as the control socket does it.
//
//   router r1 ── n1 10.0.1.0/24 (gateway 10.0.1.1, 02:0a:00:00:01:01)
//            │     vm1 10.0.1.10  02:aa:00:00:00:01  dataplane port "src"       (null, no-rx)
//            │     vm3 10.0.1.30  02:aa:00:00:00:03  dataplane port "sink_l2"   (null, no-rx)
//            └─ n2 10.0.2.0/24 (gateway 10.0.2.1, 02:0a:00:00:02:01)
//                  vm2 10.0.2.20  02:aa:00:00:00:02  dataplane port "sink_r"    (null, no-rx)
//   static route 172.16.0.0/12 via 10.0.2.20 (vm2): the routed flows' destinations
//   (routes - 5) extra static routes via 10.0.2.20: random prefixes (85 % /24, 10 % /16-/23,
//   5 % /25-/32) outside 10/8 and 172.16/12
//   (routers - 1) extra routers, each with 2 networks, 2 subnets, 2 interfaces, 2 VM ports on
//   another host, 16 static routes: 20 routes per router
//
// r1's table holds `routes` routes: 2 connected, 2 local /32s, 172.16/12 and the extras.
// Nothing ever polls the ports: the benchmarks hand bursts to Worker::process_burst as if they
// came from "src", and the null driver frees whatever is transmitted.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <unordered_set>
#include <vector>

#include "dataplane.h"
#include "net_addr.h"
#include "tenant_api.h"

namespace dvr::bench {

struct Scale {
  uint32_t routers = 1;  // routers in the tenant model, r1 included
  uint32_t routes = 10;  // routes in r1's table
  bool operator==(const Scale&) const = default;
};

// r1's routes that are not extras: 2 connected, 2 local, 172.16/12.
inline constexpr uint32_t kBaseRoutes = 5;

class Topology {
 public:
  Topology();
  ~Topology();

  // Brings the model to `s`: extends the current one when only r1's routes grow, otherwise
  // rebuilds the dataplane from scratch. Throws std::runtime_error on any refusal.
  void ensure(const Scale& s);
  const Scale& scale() const { return scale_; }

  dp::Dataplane& dp() { return *dp_; }
  TenantApi& api() { return *api_; }
  uint16_t src_port() const { return src_; }
  uint16_t l2_sink_port() const { return sink_l2_; }
  uint16_t routed_sink_port() const { return sink_r_; }

  // The extra routes of r1, in installation order; the first (routes - kBaseRoutes) are
  // installed. Generated deterministically, once, as many as ever asked for.
  const std::vector<Ipv4Prefix>& extra_routes(size_t at_least);

  // Packets r1 routed so far.
  uint64_t routed_by_r1() const;

 private:
  void rebuild();
  void add_extra_routers(uint32_t n);
  void add_extra_routes(size_t from, size_t to);
  void upsert(const api::v1::UpsertRequest& req, const char* what);

  std::unique_ptr<dp::Dataplane> dp_;
  std::unique_ptr<TenantApi> api_;
  Scale scale_{0, 0};
  uint16_t src_ = 0, sink_l2_ = 0, sink_r_ = 0;
  std::vector<Ipv4Prefix> extras_;
  std::mt19937 extras_rng_{7};
  std::unordered_set<uint64_t> extras_seen_;
};

}  // namespace dvr::bench
