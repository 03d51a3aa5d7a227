// Control-plane benchmark: how fast the control path applies configuration, and whether traffic
// loses a packet while it does. Everything goes through TenantApi::upsert, exactly as the control
// socket does it (minus the socket and the protobuf decode, measured on its own). Not a test: no
// assertions, the numbers depend on the machine. Run as root (real EAL, no hugepages):
//   build-bench/tests/bench/control_bench [--only=apply,loss,routes,raw,acl] [--reps=5]
//       [--lcores=0@0,1@1] [--insert-requests=3] [--full]
// Progress goes to stderr; one table to stdout at the end. About 2 minutes; --full adds about 6
// (it sends the 1,000 one-router requests for real, twice).
//
//   1. apply   a 1,000-router topology (each router: 2 networks, 2 subnets, 2 interfaces, 10 VM
//              ports, 5 per network, on another host except 8 bound to local null ports: 17,000
//              objects, 10,000 VM ports) into an empty model, as one UpsertRequest (median of
//              --reps) and as 1,000 requests of one router each (each request costs more than the
//              last: by default 10 requests are timed at each of 5 model sizes and the total is
//              estimated; --full sends all 1,000); and where the time of one request goes.
//   2. loss    a worker routes a continuous stream of a small tenant router (pcap infinite_rx
//              source bound to VM pa1, net_null sink bound to VM pa2) while the same topology is
//              applied: in one request, and in 111 requests (routers 1-100 one per request,
//              101-990 in one, 991-1,000 one per request; --full: 1,000 requests). Source rx,
//              sink tx and every drop counter; LOSS=0 when they all agree.
//   3. routes  1,000,000 static routes loaded into one router (10 requests of 100,000), then
//              route inserts into that router in requests of 1, 100 and 10,000 routes (until 1 s
//              and at least --insert-requests requests each); where the time of one single-route
//              request goes.
//      raw     dp::RouterRoutes::apply on a 1M-route table for comparison (median of 5 chunks).
//   4. acl     a generated network ACL (topology.h, bench_network_acl: half ingress, half egress,
//              prefixes with single ports or small ranges) attached to both networks of a small
//              tenant in one request: the request's wall time for 100, 1,000 and 10,000 rules
//              (each repetition a new rule set, the previous one alive until the swap), where it
//              goes (replayed: FilterCompiler::last_build_ms()), the classifiers' DPDK memory,
//              what a request that does not touch the ACL (1 static route) costs with it there;
//              then the loss method of 2. while the 10,000-rule ACL is attached under traffic,
//              and while it is swapped for another 10,000-rule ACL.
//              EAL memory is -m 2048 (was 1024): two compiled 10,000-rule ACLs are alive during a
//              swap, besides the mbufs and the 1M-route table of 3.
#include <rte_eal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "dataplane.h"
#include "filter_state.h"
#include "frames.h"
#include "net_addr.h"
#include "route_table/router_routes.h"
#include "tenant_api.h"
#include "tenant_forwarding.h"
#include "tenant_model.h"
#include "tenant_objects.h"
#include "topology.h"

namespace dvr::bench {
namespace {

namespace v1 = api::v1;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kRouters = 1000;
constexpr uint32_t kPortsPerNetwork = 5;
constexpr uint32_t kObjectsPerRouter = 1 + 2 + 2 + 2 + 2 * kPortsPerNetwork;  // 17
constexpr uint32_t kBoundRouters = 8;  // routers 1..8 have one VM port on a local null port
constexpr size_t kTableRoutes = 1'000'000;
constexpr size_t kLoadBatch = 100'000;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

__attribute__((format(printf, 1, 2))) std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// 1234567 -> "1,234,567"
std::string grouped(double v) {
  std::string digits = fmt("%.0f", v);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i + 3 - lead) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

// A rate: grouped digits, or two decimals when small.
std::string rate(double v) {
  return v < 100 ? fmt("%.2f", v) : grouped(v);
}

// Seconds, in the unit that reads best.
std::string dur(double s) {
  if (s >= 1) return fmt("%.2f s", s);
  if (s >= 1e-3) return fmt("%.1f ms", s * 1e3);
  return fmt("%.1f us", s * 1e6);
}

void progress(const std::string& s) {
  std::fprintf(stderr, "control_bench: %s\n", s.c_str());
}

// ---- the report: sections of (measurement, result, detail) rows.

struct Row {
  std::string what, result, detail;
};
struct Section {
  std::string title;
  std::vector<Row> rows;
};
std::vector<Section> g_report;

void section(const std::string& title) {
  g_report.push_back({title, {}});
}
void row(const std::string& what, const std::string& result, const std::string& detail = {}) {
  g_report.back().rows.push_back({what, result, detail});
  std::fprintf(stderr, "control_bench:   %s: %s  %s\n", what.c_str(), result.c_str(),
               detail.c_str());
}

void print_report(const std::string& header) {
  size_t w1 = 0, w2 = 0;
  for (const Section& s : g_report) {
    for (const Row& r : s.rows) {
      w1 = std::max(w1, r.what.size());
      w2 = std::max(w2, r.result.size());
    }
  }
  std::printf("\n%s\n", header.c_str());
  for (const Section& s : g_report) {
    std::printf("\n%s\n%s\n", s.title.c_str(), std::string(s.title.size(), '-').c_str());
    for (const Row& r : s.rows) {
      std::printf("  %-*s  %-*s  %s\n", static_cast<int>(w1), r.what.c_str(), static_cast<int>(w2),
                  r.result.c_str(), r.detail.c_str());
    }
  }
  std::printf("\n");
}

// ---- objects, as an agent would send them.

using namespace dvr::test;

std::string hex2(unsigned v) {
  return fmt("%02x", v & 0xff);
}

std::string bound_port_name(uint32_t i) {
  return fmt("h%u", i);
}

// The other hosts ("compute-N") the topology's remote VM ports live on: the model refuses a VM
// port on a host nobody described.
constexpr uint32_t kComputeHosts = 64;
v1::Object compute_host(uint32_t n) {
  v1::Object o;
  v1::RemoteHost* h = o.mutable_remote_host();
  h->set_host_id("compute-" + std::to_string(n));
  h->set_tunnel_ip("198.51.100." + std::to_string(n + 1));
  h->set_dvr_mac("02:d0:00:00:00:" + hex2(n));
  return o;
}

// Router i of the big topology (1-based): networks tn<i>a/b (10.0.1.0/24 and 10.0.2.0/24, the
// same CIDRs in every router: each router is its own VRF), interfaces, 5 VM ports per network.
void add_router(v1::UpsertRequest& req, uint32_t i) {
  const std::string x = std::to_string(i);
  const std::string hi = hex2(i >> 8), lo = hex2(i);
  const std::string r = "tr" + x;
  *req.add_objects() = router(r);
  for (uint32_t side = 0; side < 2; ++side) {
    const std::string s = side == 0 ? "a" : "b";
    const std::string net = "tn" + x + s, sub = "ts" + x + s;
    const std::string third = std::to_string(side + 1);  // 10.0.1.x / 10.0.2.x
    *req.add_objects() = network(net, 10000 + 2 * i + side);
    *req.add_objects() = subnet(sub, net, "10.0." + third + ".0/24");
    *req.add_objects() =
        interface("ti" + x + s, r, sub, "02:0c:" + hi + ":" + lo + ":0" + third + ":01");
    for (uint32_t j = 0; j < kPortsPerNetwork; ++j) {
      const bool bound = side == 0 && j == 0 && i <= kBoundRouters;
      *req.add_objects() = vm_port("tv" + x + s + std::to_string(j), net,
                                   "02:cc:" + hi + ":" + lo + ":0" + third + ":" + hex2(j + 1),
                                   "10.0." + third + "." + std::to_string(10 * (side + 1) + j),
                                   bound ? bound_port_name(i) : "",
                                   bound ? "" : "compute-" + std::to_string(i % kComputeHosts));
    }
  }
}

// The topology's routers [first, first + count), in one request or one per router. The first
// request of a topology (first == 1) also describes the compute hosts.
std::vector<v1::UpsertRequest> topology_requests(bool one_request, uint32_t first = 1,
                                                 uint32_t count = kRouters) {
  std::vector<v1::UpsertRequest> reqs(one_request ? 1 : count);
  if (first == 1) {
    for (uint32_t n = 0; n < kComputeHosts; ++n) *reqs[0].add_objects() = compute_host(n);
  }
  for (uint32_t k = 0; k < count; ++k) add_router(reqs[one_request ? 0 : k], first + k);
  return reqs;
}

// A random prefix: 85 % /24, 10 % /16-/23, 5 % /25-/32 (the route-table benchmarks' mix), outside
// 10.0.0.0/8 where the subnets are.
Ipv4Prefix random_prefix(std::mt19937& rng) {
  for (;;) {
    const unsigned k = rng() % 100;
    const auto depth = static_cast<uint8_t>(k < 85 ? 24 : k < 95 ? 16 + rng() % 8 : 25 + rng() % 8);
    const uint32_t mask = ~uint32_t{0} << (32 - depth);
    const uint32_t addr = static_cast<uint32_t>(rng()) & mask;
    if ((addr >> 24) == 10) continue;
    return {addr, depth};
  }
}

std::vector<Ipv4Prefix> unique_prefixes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::unordered_set<uint64_t> seen;
  seen.reserve(n * 2);
  std::vector<Ipv4Prefix> out;
  out.reserve(n);
  while (out.size() < n) {
    const Ipv4Prefix p = random_prefix(rng);
    if (seen.insert(uint64_t{p.addr} << 8 | p.depth).second) out.push_back(p);
  }
  return out;
}

// ---- a dataplane with the control API on top.

struct Env {
  std::unique_ptr<dp::Dataplane> dp;
  std::unique_ptr<TenantApi> api;

  explicit Env(uint32_t mbufs) {
    dp::DataplaneOptions o;
    o.mbufs = mbufs;
    o.rx_desc = 128;
    o.tx_desc = 128;
    dp = std::make_unique<dp::Dataplane>(o);
    api = std::make_unique<TenantApi>(*dp);
  }
  ~Env() {
    api.reset();  // publishes a version without tenant state before the tables go
    dp.reset();
  }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  void add_null(const std::string& name) {
    dp->add_port(dp::PortSpec{name, dp::PortType::kNull, {{"no-rx", "1"}}, {}});
  }
  // The null ports the big topology binds a few VM ports to.
  void add_bound_ports() {
    for (uint32_t i = 1; i <= kBoundRouters; ++i) add_null(bound_port_name(i));
    api->ports_changed();
  }
  // Applies `req` and returns its wall time; throws when it is refused.
  double upsert(const v1::UpsertRequest& req, const char* what) {
    const auto t0 = Clock::now();
    const v1::Response r = api->upsert(req);
    const double s = since(t0);
    if (r.status() != v1::STATUS_OK) {
      throw std::runtime_error(std::string(what) + " refused: " + r.message());
    }
    return s;
  }
  double apply_all(const std::vector<v1::UpsertRequest>& reqs, std::vector<double>* each,
                   const char* what) {
    double total = 0;
    for (const auto& req : reqs) {
      const double s = upsert(req, what);
      total += s;
      if (each) each->push_back(s);
    }
    return total;
  }
};

// TenantApi::upsert is: copy the model (the rollback copy), TenantModel::upsert (which copies
// the model again, applies the objects, validates the whole result, and moves it in, freeing
// the old one), TenantForwarding::apply (rebuilds every router's route list and the workers'
// tables from the whole model, publishes), then frees the rollback copy. This replays those
// steps with a TenantModel and a TenantForwarding of our own on the same dataplane, timing each.
struct Breakdown {
  double copy = 0, model_upsert = 0, forwarding_apply = 0, free_copy = 0;
  double total() const { return copy + model_upsert + forwarding_apply + free_copy; }
};

Breakdown replay(TenantModel& model, TenantForwarding& fwd, const v1::UpsertRequest& req) {
  Breakdown b;
  auto t0 = Clock::now();
  auto previous = std::make_unique<TenantModel>(model);
  b.copy = since(t0);
  t0 = Clock::now();
  if (auto e = model.upsert(req.objects(), req.replace())) {
    throw std::runtime_error("replayed request refused: " + e->message);
  }
  b.model_upsert = since(t0);
  t0 = Clock::now();
  if (auto e = fwd.apply(model)) throw std::runtime_error("replayed apply refused: " + e->message);
  b.forwarding_apply = since(t0);
  t0 = Clock::now();
  previous.reset();
  b.free_copy = since(t0);
  return b;
}

std::string breakdown_text(const Breakdown& b) {
  return fmt(
      "copy of the model %s + TenantModel::upsert %s + TenantForwarding::apply %s + "
      "freeing the copy %s",
      dur(b.copy).c_str(), dur(b.model_upsert).c_str(), dur(b.forwarding_apply).c_str(),
      dur(b.free_copy).c_str());
}

// Time of TenantModel's copy alone, to split TenantModel::upsert (which starts with one).
double copy_time(const TenantModel& m) {
  const auto t0 = Clock::now();
  auto c = std::make_unique<TenantModel>(m);
  const double s = since(t0);
  c.reset();
  return s;
}

// ---- 1. applying the 1,000-router topology.

void bench_apply(int reps, bool full) {
  section(
      fmt("1. Apply a %s-router topology: %s VM ports, %s objects, into an empty model "
          "(no traffic)",
          grouped(kRouters).c_str(), grouped(kRouters * 2 * kPortsPerNetwork).c_str(),
          grouped(kRouters * kObjectsPerRouter).c_str()));
  const double objects = kRouters * kObjectsPerRouter;

  // One request.
  const std::vector<v1::UpsertRequest> one = topology_requests(true);
  {
    std::string wire;
    one[0].SerializeToString(&wire);
    std::vector<double> t;
    for (int i = 0; i < reps; ++i) {
      v1::UpsertRequest parsed;
      const auto t0 = Clock::now();
      if (!parsed.ParseFromString(wire)) throw std::runtime_error("cannot parse the request");
      t.push_back(since(t0));
    }
    row("protobuf decode of that request (not included below)", dur(median(t)),
        fmt("%s bytes on the wire; median of %d", grouped(static_cast<double>(wire.size())).c_str(),
            reps));
  }
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    progress(fmt("apply: one request, repetition %d of %d", i + 1, reps));
    Env env(4095);
    env.add_bound_ports();
    times.push_back(env.upsert(one[0], "the 1,000-router request"));
  }
  const double m = median(times);
  row("1 UpsertRequest of 17,000 objects", dur(m),
      fmt("%s objects/s; median of %d (min %s, max %s)", rate(objects / m).c_str(), reps,
          dur(*std::min_element(times.begin(), times.end())).c_str(),
          dur(*std::max_element(times.begin(), times.end())).c_str()));

  if (full) {
    // All 1,000 requests, once: each request re-does the whole model, so this takes minutes.
    const std::vector<v1::UpsertRequest> many = topology_requests(false);
    progress("apply: 1,000 requests of one router each (one run, several minutes)");
    Env env(4095);
    env.add_bound_ports();
    std::vector<double> each;
    const double total = env.apply_all(many, &each, "a one-router request");
    const std::vector<double> first10(each.begin(), each.begin() + 10);
    const std::vector<double> last10(each.end() - 10, each.end());
    row("1,000 UpsertRequests of 1 router (17 objects) each", dur(total) + " total",
        fmt("%s objects/s; 1 run", rate(objects / total).c_str()));
    row("  per request", dur(total / kRouters) + " mean",
        fmt("median of the first 10 %s, of the last 10 %s: the cost of a request grows faster "
            "than the model",
            dur(median(first10)).c_str(), dur(median(last10)).c_str()));
  } else {
    // Sampled: 10 one-router requests timed at each of a few model sizes (the routers before
    // them loaded in one untimed request); the total is the sum of the per-request cost
    // interpolated linearly between the samples. --full runs all 1,000.
    constexpr uint32_t kAt[] = {0, 250, 500, 750, 990};
    constexpr uint32_t kSample = 10;
    std::vector<std::pair<double, double>> curve;  // (routers already there, median seconds)
    std::string samples;
    for (const uint32_t at : kAt) {
      progress(fmt("apply: 10 one-router requests into a %u-router model", at));
      Env env(4095);
      env.add_bound_ports();
      if (at > 0) env.upsert(topology_requests(true, 1, at)[0], "the preloaded routers");
      std::vector<double> each;
      env.apply_all(topology_requests(false, at + 1, kSample), &each, "a one-router request");
      curve.emplace_back(at + (kSample - 1) / 2.0, median(each));
      samples += fmt("%s%u: %s", samples.empty() ? "" : ", ", at, dur(curve.back().second).c_str());
    }
    const auto cost = [&](double k) {
      if (k <= curve.front().first) return curve.front().second;
      for (size_t i = 1; i < curve.size(); ++i) {
        if (k <= curve[i].first) {
          const auto& [x0, y0] = curve[i - 1];
          const auto& [x1, y1] = curve[i];
          return y0 + (y1 - y0) * (k - x0) / (x1 - x0);
        }
      }
      return curve.back().second;
    };
    double total = 0;
    for (uint32_t k = 0; k < kRouters; ++k) total += cost(k);
    row("1,000 UpsertRequests of 1 router (17 objects) each", "~" + dur(total) + " total",
        fmt("~%s objects/s; ESTIMATED from 10 requests timed at each of 5 sizes of a freshly "
            "preloaded model; a real sequence of requests is slower: --full measures it",
            rate(objects / total).c_str()));
    row("  per request", "~" + dur(total / kRouters) + " mean",
        "median with N routers already in the model: " + samples +
            "; the cost of a request grows faster than the model");
  }

  // Where the time goes: replays on a dataplane of our own.
  progress("apply: where the time goes");
  {
    Env renv(4095);
    renv.add_bound_ports();
    renv.api.reset();  // our TenantForwarding publishes instead
    TenantModel model;
    TenantForwarding fwd(*renv.dp);
    const Breakdown b = replay(model, fwd, one[0]);
    row("  where 1 request of 17,000 objects goes", dur(b.total()), breakdown_text(b));
    // Router 1,001 into the 1,000-router model: a small request into a big model.
    const v1::UpsertRequest extra = topology_requests(true, kRouters + 1, 1)[0];
    const double copy = copy_time(model);
    const Breakdown s = replay(model, fwd, extra);
    row("  where 1 router request into the 1,000-router model goes", dur(s.total()),
        breakdown_text(s) + fmt(" (TenantModel::upsert = its own copy %s + validation, "
                                "move and free %s)",
                                dur(copy).c_str(), dur(s.model_upsert - copy).c_str()));
  }
}

// ---- 2. loss while applying under traffic.

uint64_t sum(const std::array<uint64_t, dp::kDropReasonCount>& a) {
  return std::accumulate(a.begin(), a.end(), uint64_t{0});
}

dp::PortStatsSnapshot port(dp::Dataplane& d, const std::string& name) {
  for (const auto& s : d.port_stats()) {
    if (s.name == name) return s;
  }
  return {};
}

// A classic pcap file (microsecond timestamps, Ethernet), written by hand: tests/pipeline's
// pcap_io.cc trips g++ 12's -Warray-bounds at -O3.
void write_pcap(const std::string& path, const std::vector<test::Frame>& frames) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  const auto put32 = [&](uint32_t v) { std::fwrite(&v, 4, 1, f); };
  const auto put16 = [&](uint16_t v) { std::fwrite(&v, 2, 1, f); };
  put32(0xa1b2c3d4);  // magic, in host order
  put16(2);           // version 2.4
  put16(4);
  put32(0);      // thiszone
  put32(0);      // sigfigs
  put32(65535);  // snaplen
  put32(1);      // LINKTYPE_ETHERNET
  for (const test::Frame& fr : frames) {
    put32(0);  // ts_sec
    put32(0);  // ts_usec
    put32(static_cast<uint32_t>(fr.size()));
    put32(static_cast<uint32_t>(fr.size()));
    std::fwrite(fr.data(), 1, fr.size(), f);
  }
  if (std::fclose(f) != 0) throw std::runtime_error("cannot write " + path);
}

// How the topology is sent while traffic runs.
enum class LossMode {
  kOne,    // one request
  kMixed,  // routers 1-100 one per request, 101-990 in one request, 991-1,000 one per request
  kMany,   // 1,000 requests of one router (--full: minutes)
};

std::vector<v1::UpsertRequest> loss_requests(LossMode m) {
  switch (m) {
    case LossMode::kOne:
      return topology_requests(true);
    case LossMode::kMany:
      return topology_requests(false);
    case LossMode::kMixed:
      break;
  }
  std::vector<v1::UpsertRequest> reqs = topology_requests(false, 1, 100);
  reqs.push_back(topology_requests(true, 101, 890)[0]);
  for (v1::UpsertRequest& r : topology_requests(false, 991, 10)) reqs.push_back(std::move(r));
  return reqs;
}

// The small tenant the loss measurements stream through: router ra between 10.0.1.0/24 (pa1 on
// the pcap source) and 10.0.2.0/24 (pa2 on the null sink), 64 UDP flows 10.0.1.10 -> 10.0.2.20,
// source ports 4000-4063, destination port 5000. `acl`: network ACL attached to na1 and na2.
v1::UpsertRequest small_tenant(const std::string& acl = {}) {
  v1::UpsertRequest base;
  v1::Object na1 = network("na1", 101), na2 = network("na2", 102);
  if (!acl.empty()) {
    na1.mutable_network()->set_network_acl_id(acl);
    na2.mutable_network()->set_network_acl_id(acl);
  }
  for (const v1::Object& o : {
           router("ra"),
           na1,
           na2,
           subnet("sa1", "na1", "10.0.1.0/24"),
           subnet("sa2", "na2", "10.0.2.0/24"),
           interface("ia1", "ra", "sa1", "02:0a:00:00:01:01"),
           interface("ia2", "ra", "sa2", "02:0a:00:00:02:01"),
           vm_port("pa1", "na1", "02:aa:00:00:00:01", "10.0.1.10", "src"),
           vm_port("pa2", "na2", "02:aa:00:00:00:02", "10.0.2.20", "sink"),
       }) {
    *base.add_objects() = o;
  }
  return base;
}

// What the small tenant's stream is, for generated ACLs that must let it through.
const BenchTraffic kStreamTraffic{{0x0a000100u, 24}, {0x0a000200u, 24}, "udp", 5000};

// An Env with the small tenant and its stream ports (the pcap source and the null sink), plus
// the big topology's bound null ports.
std::unique_ptr<Env> stream_env(const std::string& dir) {
  auto env = std::make_unique<Env>(8191);
  env->upsert(small_tenant(), "the small tenant");
  std::vector<test::Frame> stream;
  for (unsigned i = 0; i < 64; ++i) {
    test::Ipv4Fields f;
    f.src = test::ip("10.0.1.10");
    f.dst = test::ip("10.0.2.20");
    stream.push_back(
        test::ethernet(test::mac("02:0a:00:00:01:01"), test::mac("02:aa:00:00:00:01"), 0x0800,
                       test::ipv4(f, test::udp(static_cast<uint16_t>(4000 + i), 5000,
                                               test::bytes(18, static_cast<uint8_t>(i))))));
  }
  const std::string pcap = dir + "/stream.pcap";
  write_pcap(pcap, stream);
  env->dp->add_port(
      dp::PortSpec{"src", dp::PortType::kPcap, {{"rx_pcap", pcap}, {"infinite_rx", "1"}}, {}});
  env->add_null("sink");
  env->add_bound_ports();  // ports_changed() too
  return env;
}

// Runs the stream through `env` (its workers started here, stopped at the end), calls `apply`
// (which returns the seconds its requests took) after 600 ms of quiet traffic, lets the stream run
// 300 ms more, and reports: LOSS=0 when source rx = sink tx = packets ra routed and every drop
// counter (every reason, every port, every router) is 0; the stream's rate during the apply
// against just before it. `objects` (when not 0) gives an objects/s rate in the detail.
// `extra` (optional) adds to the LOSS row's detail, once the workers have stopped.
void measure_loss(Env& env, const std::string& label, const std::string& how, double objects,
                  const std::function<double()>& apply,
                  const std::function<std::string()>& extra = {}) {
  const uint64_t rx_start = port(*env.dp, "src").rx_packets;
  env.dp->start_workers();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto w0 = Clock::now();
  const uint64_t rx_w0 = port(*env.dp, "src").rx_packets;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const uint64_t rx0 = port(*env.dp, "src").rx_packets;
  const double quiet_s = since(w0);
  const auto t0 = Clock::now();
  const double upsert_s = apply();
  const double wall = since(t0);
  const uint64_t rx1 = port(*env.dp, "src").rx_packets;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  env.dp->stop_workers();

  const dp::PortStatsSnapshot in = port(*env.dp, "src");
  const dp::PortStatsSnapshot out = port(*env.dp, "sink");
  uint64_t all_drops = 0, other_tx = 0;
  std::string reasons;
  for (const auto& s : env.dp->port_stats()) {
    all_drops += sum(s.drops);
    if (s.name != "sink") other_tx += s.tx_packets;
    for (size_t i = 0; i < dp::kDropReasonCount; ++i) {
      if (s.drops[i] != 0) {
        reasons += fmt(" %s:%s=%llu", s.name.c_str(), dp::kDropReasonNames[i],
                       static_cast<unsigned long long>(s.drops[i]));
      }
    }
  }
  uint64_t routed = 0, router_drops = 0;
  v1::Stats st;
  env.api->fill_router_stats(st);
  for (const auto& r : st.routers()) {
    if (r.router_id() == "ra") routed = r.routed_packets();
    for (const auto& d : r.drop_reasons()) {
      router_drops += d.packets();
      if (d.packets() != 0) {
        reasons += fmt(" router %s:%s=%llu", r.router_id().c_str(), d.reason().c_str(),
                       static_cast<unsigned long long>(d.packets()));
      }
    }
  }
  const dp::WorkerSnapshot w = env.dp->worker_stats()[0];
  // (the stream must have run during the apply: a source that stopped proves nothing)
  const bool lossless = rx1 > rx0 && in.rx_packets > rx_start && out.tx_packets == in.rx_packets &&
                        all_drops == 0 && router_drops == 0 && routed == in.rx_packets &&
                        other_tx == 0 && in.hw.rx_errors == 0 && out.hw.tx_errors == 0 &&
                        w.punted == 0;
  const auto u = [](uint64_t v) { return grouped(static_cast<double>(v)); };
  row(label,
      lossless ? "LOSS=0"
               : fmt("LOSS=%lld", static_cast<long long>(in.rx_packets) -
                                      static_cast<long long>(out.tx_packets)),
      fmt("source rx %s, sink tx %s, ra routed %s; drops: ports %s, routers %s%s; punted %s; "
          "other ports tx %s; source rx_errors %s, rx_nombuf %s, rx_missed %s; sink tx_errors %s",
          u(in.rx_packets).c_str(), u(out.tx_packets).c_str(), u(routed).c_str(),
          u(all_drops).c_str(), u(router_drops).c_str(), reasons.c_str(), u(w.punted).c_str(),
          u(other_tx).c_str(), u(in.hw.rx_errors).c_str(), u(in.hw.rx_nombuf).c_str(),
          u(in.hw.rx_missed).c_str(), u(out.hw.tx_errors).c_str()) +
          (extra ? extra() : std::string()));
  const double rate_quiet = static_cast<double>(rx0 - rx_w0) / quiet_s;
  const double rate_apply = static_cast<double>(rx1 - rx0) / wall;
  row("  apply time under traffic", dur(upsert_s),
      fmt("%s%s%sstream %.2f Mpps during the apply vs %.2f Mpps just before "
          "(1 worker; the source cannot lose, a stall shows as a lower rate)",
          how.c_str(), objects > 0 ? rate(objects / upsert_s).c_str() : "",
          objects > 0 ? " objects/s; " : "", rate_apply / 1e6, rate_quiet / 1e6));
}

void bench_loss(LossMode lm, const std::string& dir) {
  const std::string mode = lm == LossMode::kOne    ? "1 request"
                           : lm == LossMode::kMany ? "1,000 requests"
                                                   : "111 requests";
  const std::string how = lm == LossMode::kMixed ? "routers 1-100 one per request, 101-990 in one, "
                                                   "991-1,000 one per request (--full: 1,000 "
                                                   "requests); "
                                                 : "";
  progress("loss: applying the topology as " + mode + " under traffic");
  std::unique_ptr<Env> env = stream_env(dir);
  const std::vector<v1::UpsertRequest> reqs = loss_requests(lm);
  measure_loss(*env, "topology in " + mode + ", under traffic", how, kRouters * kObjectsPerRouter,
               [&] { return env->apply_all(reqs, nullptr, "the topology under traffic"); });
}

// ---- 4. network ACLs: build time, and loss while one is attached and swapped under traffic.

constexpr uint32_t kAclRules = 10'000;

std::string mib(size_t bytes) {
  return fmt("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

// One request: the generated ACL (`rules` rules, half per direction, `seed`) and the small
// tenant's two networks attached to it (replace: the networks exist already).
v1::UpsertRequest acl_request(uint32_t rules, uint32_t seed) {
  v1::UpsertRequest req;
  req.set_replace(true);
  *req.add_objects() = bench_network_acl("acl", rules, kStreamTraffic, seed);
  const v1::UpsertRequest tenant = small_tenant("acl");
  for (const v1::Object& o : tenant.objects()) {
    if (o.has_network()) *req.add_objects() = o;
  }
  return req;
}

void bench_acl(int reps, const std::string& dir) {
  section(
      fmt("4. Network ACL of %s rules (half ingress, half egress; generated: prefixes and "
          "single ports or small ranges), attached to both networks of a small tenant",
          grouped(kAclRules).c_str()));
  // Build time: through TenantApi (the wall time of the request), and replayed on a
  // TenantForwarding of our own for FilterCompiler::last_build_ms(). Each repetition sends
  // another rule set (another seed), so each is a real compile, with the previous ACL alive.
  for (const uint32_t rules : {uint32_t{100}, uint32_t{1'000}, kAclRules}) {
    const int n = rules == kAclRules ? reps : std::min(reps, 3);
    std::vector<double> wall;
    size_t memory = 0;
    {
      Env env(4095);
      env.add_bound_ports();
      env.upsert(small_tenant(), "the small tenant");
      for (int i = 0; i < n; ++i) {
        progress(fmt("acl: %u rules, request %d of %d", rules, i + 1, n));
        const v1::UpsertRequest req = acl_request(rules, static_cast<uint32_t>(100 + i));
        wall.push_back(env.upsert(req, "the ACL"));
        memory = acl_memory_bytes(*env.dp);
      }
    }
    std::string where, unrelated;
    {
      Env renv(4095);
      renv.add_bound_ports();
      renv.api.reset();  // our TenantForwarding publishes instead
      TenantModel model;
      TenantForwarding fwd(*renv.dp);
      replay(model, fwd, small_tenant());
      const Breakdown b = replay(model, fwd, acl_request(rules, 100));
      where = breakdown_text(b) +
              fmt("; FilterCompiler::last_build_ms() %.1f ms", fwd.filters().last_build_ms());
      // A request that does not touch the ACL (one static route), with the ACL in the model:
      // what the ACL costs every other request.
      std::vector<double> t;
      double build_ms = 0;
      for (int i = 0; i < 5; ++i) {
        v1::UpsertRequest route;
        *route.add_objects() =
            static_route(fmt("u%d", i), "ra", fmt("192.0.2.%d/32", i), "10.0.2.20");
        t.push_back(replay(model, fwd, route).total());
        build_ms = fwd.filters().last_build_ms();
      }
      unrelated = fmt("%s (median of 5, replayed; FilterCompiler::last_build_ms() %.2f ms)",
                      dur(median(t)).c_str(), build_ms);
    }
    row(fmt("upsert of a %s-rule ACL + its 2 networks (1 request)",
            grouped(static_cast<double>(rules)).c_str()),
        dur(median(wall)),
        fmt("median of %d (min %s, max %s); ACL classifiers %s (DPDK memory, both directions)", n,
            dur(*std::min_element(wall.begin(), wall.end())).c_str(),
            dur(*std::max_element(wall.begin(), wall.end())).c_str(), mib(memory).c_str()));
    row("  where 1 such request goes (replayed)", "", where);
    row("  then 1 request of 1 static route (not touching the ACL)", "", unrelated);
  }

  // Loss: the stream runs while the ACL is attached (no ACL -> 10,000 rules), then while it is
  // replaced by another 10,000-rule ACL (both compiled versions alive during the swap).
  progress("acl: attaching and swapping a 10,000-rule ACL under traffic");
  std::unique_ptr<Env> env = stream_env(dir);
  const auto [in_rule, out_rule] = bench_acl_allow_numbers(kAclRules);
  const auto hits = [&] {
    v1::FilterCountersRequest req;
    req.set_kind(v1::OBJECT_KIND_NETWORK_ACL);
    req.set_id("acl");
    const v1::Response r = env->api->filter_counters(req);
    uint64_t in = 0, out = 0, other = 0;
    for (const auto& h : r.filter_counters().rules()) {
      const bool ingress = h.direction() == v1::DIRECTION_INGRESS;
      if (ingress && h.rule() == std::to_string(in_rule)) {
        in += h.packets();
      } else if (!ingress && h.rule() == std::to_string(out_rule)) {
        out += h.packets();
      } else {
        other += h.packets();
      }
    }
    other += r.filter_counters().default_ingress_packets() +
             r.filter_counters().default_egress_packets();
    return fmt(
        "; the ACL's counters: allow rules %s (ingress) and %s (egress), every other rule "
        "and the defaults %s; ACL classifiers %s",
        grouped(static_cast<double>(in)).c_str(), grouped(static_cast<double>(out)).c_str(),
        grouped(static_cast<double>(other)).c_str(), mib(acl_memory_bytes(*env->dp)).c_str());
  };
  const v1::UpsertRequest attach = acl_request(kAclRules, 100);
  measure_loss(
      *env, "attach the 10,000-rule ACL under traffic", "1 request; ", 0,
      [&] { return env->upsert(attach, "the ACL under traffic"); }, hits);
  // The swap, on a fresh dataplane (its stream cannot be restarted) that has the first ACL before
  // the stream starts. The counters belong to the compiled ACL: after the swap they count from
  // zero, so they count exactly the packets routed after it.
  env.reset();
  env = stream_env(dir);
  env->upsert(attach, "the first ACL");
  const v1::UpsertRequest swap = acl_request(kAclRules, 200);
  measure_loss(
      *env, "swap it for another 10,000-rule ACL under traffic", "1 request; ", 0,
      [&] { return env->upsert(swap, "the second ACL under traffic"); },
      [&] { return hits() + " (counted since the swap)"; });
}

// ---- 3. route inserts into a router that holds 1M routes.

v1::Object route_object(size_t i, const Ipv4Prefix& p) {
  return static_route(fmt("e%zu", i), "r1", p, "10.0.2.20");
}

// Requests of `batch` routes until at least `min_requests` were sent and 1 s has passed (at most
// `max_requests`). Returns the per-request times.
template <typename Send>
std::vector<double> timed_requests(size_t min_requests, size_t max_requests, Send send) {
  std::vector<double> t;
  double elapsed = 0;
  while (t.size() < max_requests && (t.size() < min_requests || elapsed < 1.0)) {
    t.push_back(send());
    elapsed += t.back();
  }
  return t;
}

constexpr size_t kBatches[] = {1, 100, 10'000};
constexpr size_t kMaxRequests[] = {1000, 100, 20};  // through TenantApi: at most 301,000 routes
constexpr size_t kSpare = 1'500'000;                // beyond the 1M, for the inserts

// 1M + kSpare distinct prefixes, generated once.
const std::vector<Ipv4Prefix>& route_prefixes() {
  static std::vector<Ipv4Prefix> p;
  if (p.empty()) {
    progress("routes: generating prefixes");
    p = unique_prefixes(kTableRoutes + kSpare, 7);
  }
  return p;
}

void bench_routes(size_t insert_requests) {
  section("3. Route inserts into one router (r1) holding 1,000,000 static routes");
  const std::vector<Ipv4Prefix>& prefixes = route_prefixes();
  {
    Env env(4095);
    v1::UpsertRequest base;
    for (const v1::Object& o : {
             router("r1"),
             network("n1", 101),
             network("n2", 102),
             subnet("s1", "n1", "10.0.1.0/24"),
             subnet("s2", "n2", "10.0.2.0/24"),
             interface("i1", "r1", "s1", "02:0a:00:00:01:01"),
             interface("i2", "r1", "s2", "02:0a:00:00:02:01"),
             compute_host(1),
             compute_host(2),
             vm_port("vm1", "n1", "02:aa:00:00:00:01", "10.0.1.10", "", "compute-1"),
             vm_port("vm2", "n2", "02:aa:00:00:00:02", "10.0.2.20", "", "compute-2"),
         }) {
      *base.add_objects() = o;
    }
    env.upsert(base, "router r1");
    size_t next = 0;  // the next prefix to install
    const auto make_request = [&](size_t n) {
      v1::UpsertRequest req;
      for (size_t i = 0; i < n; ++i, ++next)
        *req.add_objects() = route_object(next, prefixes[next]);
      return req;
    };

    // The load, 100,000 routes per request; the requests are built before the clock starts.
    std::vector<double> loads;
    while (next < kTableRoutes) {
      const v1::UpsertRequest req = make_request(kLoadBatch);
      loads.push_back(env.upsert(req, "a 100,000-route request"));
      progress(fmt("routes: %s routes in r1 (last request %s)",
                   grouped(static_cast<double>(next)).c_str(), dur(loads.back()).c_str()));
    }
    const double load = std::accumulate(loads.begin(), loads.end(), 0.0);
    row("load 1,000,000 routes, 10 requests of 100,000", dur(load) + " total",
        fmt("%s routes/s; the 1st request %s, the 10th %s (each costs O(model)); 1 run",
            grouped(kTableRoutes / load).c_str(), dur(loads.front()).c_str(),
            dur(loads.back()).c_str()));

    for (size_t k = 0; k < 3; ++k) {
      const size_t batch = kBatches[k];
      progress(fmt("routes: inserting %zu route(s) per request", batch));
      const std::vector<double> t = timed_requests(insert_requests, kMaxRequests[k], [&] {
        const v1::UpsertRequest req = make_request(batch);
        return env.upsert(req, "a route insert");
      });
      const double total = std::accumulate(t.begin(), t.end(), 0.0);
      row(fmt("insert %s route%s per request", grouped(static_cast<double>(batch)).c_str(),
              batch == 1 ? "" : "s"),
          rate(static_cast<double>(batch * t.size()) / total) + " routes/s",
          fmt("%zu request%s in %s, median %s per request (min %s, max %s)", t.size(),
              t.size() == 1 ? "" : "s", dur(total).c_str(), dur(median(t)).c_str(),
              dur(*std::min_element(t.begin(), t.end())).c_str(),
              dur(*std::max_element(t.begin(), t.end())).c_str()));
    }

    // Where the time of one single-route request goes, replayed on a copy of the model with a
    // TenantForwarding of our own (which first builds everything from scratch).
    progress("routes: where the time goes");
    auto t0 = Clock::now();
    TenantModel model(env.api->model());
    const double copy = since(t0);
    env.api.reset();
    TenantForwarding fwd(*env.dp);
    t0 = Clock::now();
    if (auto e = fwd.apply(model)) throw std::runtime_error("apply refused: " + e->message);
    const double scratch = since(t0);
    const v1::UpsertRequest one = make_request(1);
    const Breakdown b = replay(model, fwd, one);
    row("  where 1 single-route request goes", dur(b.total()),
        breakdown_text(b) + fmt(" (TenantModel::upsert = its own copy %s + validation, move and "
                                "free %s)",
                                dur(copy).c_str(), dur(b.model_upsert - copy).c_str()));
    row("  TenantForwarding::apply of that model from scratch", dur(scratch),
        "a fresh TenantForwarding: every route table built from nothing");
  }
}

// The raw route table, no TenantApi: dp::RouterRoutes::apply on the same 1M prefixes.
void bench_raw() {
  const std::vector<Ipv4Prefix>& prefixes = route_prefixes();
  section("3b. Raw dp::RouterRoutes::apply on a 1,000,000-route table (no TenantApi, no readers)");
  progress("routes: raw route table");
  dp::RouterRoutes rr("raw", dp::RouteTableOptions{});
  const auto route = [&](size_t i) {
    return dp::RouterRoutes::Route{{prefixes[i].addr, prefixes[i].depth},
                                   static_cast<dp::NextHopId>(1 + i % 1000)};
  };
  std::vector<double> loads;
  for (size_t from = 0; from < kTableRoutes; from += kLoadBatch) {
    std::vector<dp::RouterRoutes::Route> adds;
    adds.reserve(kLoadBatch);
    for (size_t i = from; i < from + kLoadBatch; ++i) adds.push_back(route(i));
    const auto t0 = Clock::now();
    rr.apply({}, adds);
    rr.release_retired();
    loads.push_back(since(t0));
  }
  const double load = std::accumulate(loads.begin(), loads.end(), 0.0);
  row("load 1,000,000 routes, 10 batches of 100,000", dur(load) + " total",
      fmt("%s routes/s; 1 run", grouped(kTableRoutes / load).c_str()));
  {
    std::vector<double> t;
    for (int i = 0; i < 3; ++i) {
      const auto t0 = Clock::now();
      const std::vector<dp::RouterRoutes::Route> all = rr.routes();
      t.push_back(since(t0));
    }
    row("RouterRoutes::routes() of the 1M routes", dur(median(t)),
        "median of 3; TenantForwarding::apply lists every router's routes on every request");
  }
  constexpr int kChunks = 5;
  constexpr double kChunkSeconds = 0.2;
  for (const size_t batch : kBatches) {
    // Five chunks of at least 0.2 s each (or of a fifth of the spare prefixes); the routes are
    // taken out again afterwards, untimed, so that every batch size starts from 1M routes.
    const size_t spare = prefixes.size() - kTableRoutes;
    size_t next = kTableRoutes;
    std::vector<double> rates;
    double elapsed = 0;
    size_t inserted = 0;
    std::vector<dp::RouterRoutes::Route> adds;
    adds.reserve(batch);
    for (int c = 0; c < kChunks; ++c) {
      const size_t chunk_end = kTableRoutes + spare / kChunks * static_cast<size_t>(c + 1);
      size_t n = 0;
      const auto t0 = Clock::now();
      double s = 0;
      while (next + batch <= chunk_end && s < kChunkSeconds) {
        adds.clear();
        for (size_t i = 0; i < batch; ++i) adds.push_back(route(next++));
        if (rr.apply({}, adds)) rr.release_retired();
        n += batch;
        s = since(t0);
      }
      rates.push_back(static_cast<double>(n) / s);
      elapsed += s;
      inserted += n;
      next = std::max(next, chunk_end);  // every chunk starts on its own share
    }
    row(fmt("insert %s route%s per apply()", grouped(static_cast<double>(batch)).c_str(),
            batch == 1 ? "" : "s"),
        grouped(median(rates)) + " routes/s",
        fmt("median of %d chunks; %s routes in %s in all (%s routes/s)", kChunks,
            grouped(static_cast<double>(inserted)).c_str(), dur(elapsed).c_str(),
            grouped(static_cast<double>(inserted) / elapsed).c_str()));
    std::vector<dp::RoutePrefix> dels;
    for (size_t i = kTableRoutes; i < prefixes.size(); ++i) dels.push_back(route(i).first);
    rr.apply(dels, {});
    rr.release_retired();
  }
}

// The value of --name=value among the arguments, or `fallback`.
std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  std::string v = fallback;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s.starts_with("--" + name + "=")) v = s.substr(name.size() + 3);
  }
  return v;
}

}  // namespace
}  // namespace dvr::bench

int main(int argc, char** argv) {
  using namespace dvr::bench;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!a.starts_with("--only=") && !a.starts_with("--reps=") && !a.starts_with("--lcores=") &&
        !a.starts_with("--insert-requests=") && a != "--full") {
      std::fprintf(stderr,
                   "usage: control_bench [--only=apply,loss,routes,raw,acl] [--reps=5] "
                   "[--lcores=0@0,1@1] [--insert-requests=3] [--full]\n");
      return 2;
    }
  }
  const std::string only = "," + flag(argc, argv, "only", "apply,loss,routes,raw,acl") + ",";
  const auto want = [&](const char* part) {
    return only.find(std::string(",") + part + ",") != std::string::npos;
  };
  const int reps = std::max(1, std::atoi(flag(argc, argv, "reps", "5").c_str()));
  const auto insert_requests =
      static_cast<size_t>(std::max(1, std::atoi(flag(argc, argv, "insert-requests", "3").c_str())));
  const std::string lcores = flag(argc, argv, "lcores", "0@0,1@1");
  bool full = false;
  for (int i = 1; i < argc; ++i) full |= std::string(argv[i]) == "--full";

  const std::string prefix = "--file-prefix=dvr_control_bench_" + std::to_string(::getpid());
  std::vector<std::string> eal = {"control_bench",
                                  "--no-huge",
                                  "-m",
                                  "2048",
                                  "--no-pci",
                                  "--lcores",
                                  lcores,
                                  prefix,
                                  "--no-telemetry",
                                  "--log-level=lib.*:error",
                                  "--log-level=pmd.*:error"};
  std::vector<char*> eal_argv;
  for (auto& a : eal) eal_argv.push_back(a.data());
  if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "control_bench: EAL init failed (run as root)\n");
    return 1;
  }
  char tmpl[] = "/tmp/dvr_control_bench_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl) != nullptr ? tmpl : "/tmp";

  const auto t0 = Clock::now();
  int rc = 0;
  try {
    if (want("apply")) bench_apply(reps, full);
    if (want("loss")) {
      section(
          "2. Forwarding loss while the same topology is applied: 1 worker routes a "
          "continuous stream of router ra (pcap infinite_rx -> null sink)");
      bench_loss(LossMode::kOne, dir);
      bench_loss(full ? LossMode::kMany : LossMode::kMixed, dir);
    }
    if (want("routes")) bench_routes(std::min<size_t>(insert_requests, 20));
    if (want("raw")) bench_raw();
    if (want("acl")) bench_acl(reps, dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "control_bench: %s\n", e.what());
    rc = 1;
  }
#if defined(__OPTIMIZE__) && defined(NDEBUG)
  const char* build = "optimised, NDEBUG";
#elif defined(__OPTIMIZE__)
  const char* build = "optimised, assertions on";
#else
  const char* build = "not optimised";
#endif
  print_report(
      fmt("dvrd control-plane benchmark (%s build; EAL --no-huge -m 2048, lcores %s; wall "
          "times from std::chrono::steady_clock; total run %.0f s)",
          build, lcores.c_str(), since(t0)));

  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  const std::string runtime_dir = rte_eal_get_runtime_dir();  // ours: the prefix has our pid
  rte_eal_cleanup();
  std::filesystem::remove_all(runtime_dir, ignored);
  return rc;
}
