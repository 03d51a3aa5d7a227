#include "topology.h"

#include "tenant_objects.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace dvr::bench {

namespace {

namespace v1 = api::v1;

using namespace dvr::test;

// A random prefix with the route-table benchmarks' mix (85 % /24, 10 % /16-/23, 5 % /25-/32)
// that overlaps neither 10.0.0.0/8 (the subnets) nor 172.16.0.0/12 (the flows' aggregate).
Ipv4Prefix random_prefix(std::mt19937& rng) {
  for (;;) {
    const unsigned k = rng() % 100;
    const auto depth = static_cast<uint8_t>(k < 85 ? 24 : k < 95 ? 16 + rng() % 8 : 25 + rng() % 8);
    const uint32_t mask = ~uint32_t{0} << (32 - depth);
    const uint32_t addr = static_cast<uint32_t>(rng()) & mask;
    if ((addr >> 24) == 10 || (addr & 0xfff00000u) == 0xac100000u) continue;
    return {addr, depth};
  }
}

std::string hex2(unsigned v) {
  char b[3];
  std::snprintf(b, sizeof b, "%02x", v & 0xff);
  return b;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Topology::Topology() = default;

Topology::~Topology() {
  api_.reset();  // publishes a version without tenant state before the tables go
  dp_.reset();
}

const std::vector<Ipv4Prefix>& Topology::extra_routes(size_t at_least) {
  extras_.reserve(at_least);
  while (extras_.size() < at_least) {
    const Ipv4Prefix p = random_prefix(extras_rng_);
    if (extras_seen_.insert(uint64_t{p.addr} << 8 | p.depth).second) extras_.push_back(p);
  }
  return extras_;
}

uint64_t Topology::routed_by_r1() const {
  v1::Stats st;
  api_->fill_router_stats(st);
  for (const auto& r : st.routers()) {
    if (r.router_id() == "r1") return r.routed_packets();
  }
  return 0;
}

void Topology::upsert(const v1::UpsertRequest& req, const char* what) {
  const v1::Response r = api_->upsert(req);
  if (r.status() != v1::STATUS_OK) {
    throw std::runtime_error(std::string(what) + " refused: " + r.message());
  }
}

void Topology::rebuild() {
  api_.reset();
  dp_.reset();
  dp::DataplaneOptions o;
  o.mbufs = 4095;  // the drivers' pool; bursts come from the benchmark's own pool
  o.rx_desc = 128;
  o.tx_desc = 128;
  dp_ = std::make_unique<dp::Dataplane>(o);
  api_ = std::make_unique<TenantApi>(*dp_);
  const auto null_port = [&](const std::string& name) {
    return dp_->add_port(dp::PortSpec{name, dp::PortType::kNull, {{"no-rx", "1"}}, {}})
        .record.port_id;
  };
  src_ = null_port("src");
  sink_l2_ = null_port("sink_l2");
  sink_r_ = null_port("sink_r");
  api_->ports_changed();

  v1::UpsertRequest req;
  for (const v1::Object& o2 : {
           router("r1"),
           network("n1", 101),
           network("n2", 102),
           subnet("s1", "n1", "10.0.1.0/24"),
           subnet("s2", "n2", "10.0.2.0/24"),
           interface("i1", "r1", "s1", "02:0a:00:00:01:01"),
           interface("i2", "r1", "s2", "02:0a:00:00:02:01"),
           vm_port("vm1", "n1", "02:aa:00:00:00:01", "10.0.1.10", "src"),
           vm_port("vm2", "n2", "02:aa:00:00:00:02", "10.0.2.20", "sink_r"),
           vm_port("vm3", "n1", "02:aa:00:00:00:03", "10.0.1.30", "sink_l2"),
           static_route("agg", "r1", "172.16.0.0/12", "10.0.2.20"),
       }) {
    *req.add_objects() = o2;
  }
  upsert(req, "the base topology");
}

void Topology::add_extra_routers(uint32_t n) {
  const auto t0 = std::chrono::steady_clock::now();
  std::mt19937 rng(11);
  v1::UpsertRequest req;
  for (uint32_t i = 1; i <= n; ++i) {
    const std::string x = std::to_string(i);
    const std::string hi = hex2(i >> 8), lo = hex2(i);
    const std::string r = "xr" + x;
    for (const v1::Object& o : {
             router(r),
             network("xn" + x + "a", 1000 + 2 * i),
             network("xn" + x + "b", 1001 + 2 * i),
             subnet("xs" + x + "a", "xn" + x + "a", "10.0.1.0/24"),
             subnet("xs" + x + "b", "xn" + x + "b", "10.0.2.0/24"),
             interface("xi" + x + "a", r, "xs" + x + "a", "02:0c:" + hi + ":" + lo + ":01:01"),
             interface("xi" + x + "b", r, "xs" + x + "b", "02:0c:" + hi + ":" + lo + ":02:01"),
             vm_port("xv" + x + "a", "xn" + x + "a", "02:cc:" + hi + ":" + lo + ":00:01",
                     "10.0.1.10", ""),
             vm_port("xv" + x + "b", "xn" + x + "b", "02:cc:" + hi + ":" + lo + ":00:02",
                     "10.0.2.20", ""),
         }) {
      *req.add_objects() = o;
    }
    std::unordered_set<uint64_t> seen;
    while (seen.size() < 16) {
      const Ipv4Prefix p = random_prefix(rng);
      if (!seen.insert(uint64_t{p.addr} << 8 | p.depth).second) continue;
      *req.add_objects() = static_route(r + "s" + std::to_string(seen.size()), r, p, "10.0.2.20");
    }
  }
  upsert(req, "the extra routers");
  std::fprintf(stderr, "setup: %u extra routers with 20 routes each (%.1f s)\n", n,
               seconds_since(t0));
}

void Topology::add_extra_routes(size_t from, size_t to) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<Ipv4Prefix>& extras = extra_routes(to);
  v1::UpsertRequest req;
  for (size_t i = from; i < to; ++i) {
    *req.add_objects() = static_route("e" + std::to_string(i), "r1", extras[i], "10.0.2.20");
  }
  upsert(req, "the extra routes");
  std::fprintf(stderr, "setup: r1 now has %zu routes (+%zu in %.1f s)\n", to + kBaseRoutes,
               to - from, seconds_since(t0));
}

void Topology::ensure(const Scale& s) {
  if (dp_ && scale_ == s) return;
  if (s.routers < 1 || s.routes < kBaseRoutes) throw std::invalid_argument("bad scale");
  if (!dp_ || s.routers != scale_.routers || s.routes < scale_.routes) {
    if (dp_) std::fprintf(stderr, "setup: rebuilding the dataplane\n");
    rebuild();
    scale_ = {1, kBaseRoutes};
    if (s.routers > 1) add_extra_routers(s.routers - 1);
    scale_.routers = s.routers;
  }
  if (s.routes > scale_.routes)
    add_extra_routes(scale_.routes - kBaseRoutes, s.routes - kBaseRoutes);
  scale_ = s;
}

}  // namespace dvr::bench
