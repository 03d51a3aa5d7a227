#include "topology.h"

#include "arp_reply.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include "filter_state.h"
#include "tenant_objects.h"

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

// ---- generated filter rules

// A prefix for a generated rule: 10 % /8-/15, 40 % /16-/23, 40 % /24, 10 % /25-/32, outside the
// benchmarks' address space (10/8, 172.16/12, 198.18/15) and the traffic's own prefixes, so that
// no generated rule matches the benchmark traffic by its addresses.
Ipv4Prefix filter_prefix(std::mt19937& rng, const BenchTraffic& t) {
  static const Ipv4Prefix kReserved[] = {{0x0a000000u, 8}, {0xac100000u, 12}, {0xc6120000u, 15}};
  for (;;) {
    const unsigned k = rng() % 100;
    const auto depth = static_cast<uint8_t>(k < 10   ? 8 + rng() % 8
                                            : k < 50 ? 16 + rng() % 8
                                            : k < 90 ? 24
                                                     : 25 + rng() % 8);
    const Ipv4Prefix p{static_cast<uint32_t>(rng()) & (~uint32_t{0} << (32 - depth)), depth};
    bool bad = p.overlaps(t.src) || p.overlaps(t.dst);
    for (const Ipv4Prefix& r : kReserved) bad = bad || p.overlaps(r);
    if (!bad) return p;
  }
}

// A destination port match that does not contain `avoid`: 45 % a well-known port, 30 % a single
// port above 1023, 25 % a range of 2-256 ports above 1023.
void filter_ports(std::mt19937& rng, uint16_t avoid, v1::PortRange* out) {
  static constexpr uint16_t kWellKnown[] = {22,   25,   53,   80,   110,  123,  143,  443,   465,
                                            587,  993,  995,  1433, 1521, 2049, 3306, 3389,  5432,
                                            5672, 6379, 6443, 8080, 8443, 9090, 9200, 11211, 27017};
  for (;;) {
    const unsigned k = rng() % 100;
    uint32_t lo, hi;
    if (k < 45) {
      lo = hi = kWellKnown[rng() % std::size(kWellKnown)];
    } else if (k < 75) {
      lo = hi = 1024 + rng() % (65536 - 1024);
    } else {
      lo = 1024 + rng() % (65536 - 1024 - 256);
      hi = lo + 1 + rng() % 255;
    }
    if (avoid >= lo && avoid <= hi) continue;
    out->set_min(lo);
    out->set_max(hi);
    return;
  }
}

// The TCP/UDP protocol that is not t's.
std::string other_protocol(const BenchTraffic& t) {
  return t.protocol == "tcp" ? "udp" : "tcp";
}

// t.src widened by 8 bits (at least /8): a tenant-wide prefix that does contain the traffic.
Ipv4Prefix widened(const Ipv4Prefix& p) {
  const auto depth = static_cast<uint8_t>(p.depth > 16 ? p.depth - 8 : 8);
  return {p.addr & (~uint32_t{0} << (32 - depth)), depth};
}

void set_icmp(std::mt19937& rng, v1::AclRule* r) {
  static constexpr uint32_t kTypes[] = {0, 3, 8, 11};
  const uint32_t type = kTypes[rng() % 4];
  r->set_icmp_type(type);
  if (type == 3 && rng() % 2 == 0) r->set_icmp_code(rng() % 16);
}

// One pseudo-random ACL rule that cannot match t (by a foreign prefix, a port range without
// t.dst_port, or another protocol).
void random_acl_rule(std::mt19937& rng, const BenchTraffic& t, v1::AclRule* r) {
  r->set_action(rng() % 100 < 65 ? v1::ACL_ACTION_ALLOW : v1::ACL_ACTION_DENY);
  const unsigned pk = rng() % 100;
  const unsigned ak = rng() % 100;
  if (ak >= 90) {
    // Overlaps the traffic's addresses (a tenant-wide rule), another protocol and a port.
    r->set_protocol(other_protocol(t));
    r->set_source_cidr(format_prefix(widened(t.src)));
    filter_ports(rng, 0, r->mutable_destination_ports());
    return;
  }
  r->set_protocol(pk < 55 ? "tcp" : pk < 85 ? "udp" : pk < 93 ? "icmp" : "any");
  if (ak < 75) r->set_destination_cidr(format_prefix(filter_prefix(rng, t)));
  if (ak >= 40) r->set_source_cidr(format_prefix(filter_prefix(rng, t)));
  if (pk < 85) {
    filter_ports(rng, t.dst_port, r->mutable_destination_ports());
    if (rng() % 100 < 15) {  // a return-traffic rule: from the ephemeral ports
      r->mutable_source_ports()->set_min(1024);
      r->mutable_source_ports()->set_max(65535);
    }
  } else if (pk < 93) {
    set_icmp(rng, r);
  }
}

}  // namespace

std::pair<uint32_t, uint32_t> bench_acl_allow_numbers(uint32_t rules) {
  const uint32_t per_dir = rules / 2;
  const uint32_t at = per_dir < 2 ? 0 : std::min(per_dir * 9 / 10, per_dir - 2);
  return {1 + 3 * at, 1 + 3 * at};
}

v1::Object bench_network_acl(const std::string& id, uint32_t rules, const BenchTraffic& t,
                             uint32_t seed) {
  if (rules < 2 || rules % 2 != 0 || rules > 20000) {
    throw std::invalid_argument("bench_network_acl: rules must be even, 2 .. 20,000");
  }
  const uint32_t per_dir = rules / 2;
  const uint32_t allow_at = (bench_acl_allow_numbers(rules).first - 1) / 3;
  v1::Object o;
  v1::NetworkAcl* acl = o.mutable_network_acl();
  acl->set_id(id);
  acl->set_default_ingress(v1::ACL_ACTION_DENY);
  acl->set_default_egress(v1::ACL_ACTION_DENY);
  std::mt19937 rng(seed);
  for (const v1::Direction d : {v1::DIRECTION_INGRESS, v1::DIRECTION_EGRESS}) {
    for (uint32_t i = 0; i < per_dir; ++i) {
      v1::AclRule* r = acl->add_rules();
      if (i == allow_at || (per_dir >= 2 && i == per_dir - 1)) {
        // The traffic's allow rule, and last a deny for the same traffic that must lose to it.
        const bool allow = i == allow_at;
        r->set_action(allow ? v1::ACL_ACTION_ALLOW : v1::ACL_ACTION_DENY);
        r->set_protocol(t.protocol);
        r->set_source_cidr(format_prefix(allow ? t.src : widened(t.src)));
        if (allow) {
          r->set_destination_cidr(format_prefix(t.dst));
          r->mutable_destination_ports()->set_min(t.dst_port);
          r->mutable_destination_ports()->set_max(t.dst_port);
        }
      } else {
        random_acl_rule(rng, t, r);
      }
      r->set_number(1 + 3 * i);
      r->set_direction(d);
    }
  }
  return o;
}

v1::Object bench_security_group(const std::string& id, uint32_t rules, const BenchTraffic& t,
                                uint32_t seed) {
  if (rules < 2) throw std::invalid_argument("bench_security_group: at least 2 rules");
  v1::Object o;
  v1::SecurityGroup* g = o.mutable_security_group();
  g->set_id(id);
  const auto add = [&](const std::string& rid, v1::Direction d, const std::string& protocol) {
    v1::SecurityGroupRule* r = g->add_rules();
    r->set_id(rid);
    r->set_direction(d);
    r->set_ethertype("IPv4");
    r->set_protocol(protocol);
    return r;
  };
  add("egress-any", v1::DIRECTION_EGRESS, "any");
  std::mt19937 rng(seed);
  for (uint32_t i = 1; i + 1 < rules; ++i) {
    const unsigned pk = rng() % 100;
    const unsigned rk = rng() % 100;
    std::string protocol = pk < 60 ? "tcp" : pk < 85 ? "udp" : "icmp";
    if (rk >= 80) protocol = other_protocol(t);  // from the tenant's own prefix: other protocol
    v1::SecurityGroupRule* r = add("r" + std::to_string(i), v1::DIRECTION_INGRESS, protocol);
    if (protocol == "icmp") {
      static constexpr uint32_t kTypes[] = {0, 3, 8, 11};
      r->set_icmp_type(kTypes[rng() % 4]);
    } else {
      filter_ports(rng, t.dst_port, r->mutable_ports());
    }
    if (rk < 50) {
      r->set_remote_ip_prefix(format_prefix(filter_prefix(rng, t)));
    } else if (rk >= 80) {
      r->set_remote_ip_prefix(format_prefix(widened(t.src)));
    }
  }
  v1::SecurityGroupRule* admit = add("admit", v1::DIRECTION_INGRESS, t.protocol);
  admit->mutable_ports()->set_min(t.dst_port);
  admit->mutable_ports()->set_max(t.dst_port);
  admit->set_remote_ip_prefix(format_prefix(t.src));
  return o;
}

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

size_t Topology::acl_memory_bytes() const {
  return dp_ ? bench::acl_memory_bytes(*dp_) : 0;
}

size_t acl_memory_bytes(const dp::Dataplane& dp) {
  const dp::L3State* l3 = dp.l3();
  if (l3 == nullptr) return 0;
  std::set<const dp::Classifier*> seen;
  size_t total = 0;
  for (const auto& t : l3->acl_tables) {
    if (t && t->classifier && seen.insert(t->classifier.get()).second) {
      total += t->classifier->memory_bytes();
    }
  }
  return total;
}

namespace {

v1::FilterCounters filter_counters(const TenantApi& api, v1::ObjectKind kind,
                                   const std::string& id) {
  v1::FilterCountersRequest req;
  req.set_kind(kind);
  req.set_id(id);
  const v1::Response r = api.filter_counters(req);
  if (r.status() != v1::STATUS_OK) {
    throw std::runtime_error("filter counters of " + id + ": " + r.message());
  }
  return r.filter_counters();
}

const char* direction_text(v1::Direction d) {
  return d == v1::DIRECTION_INGRESS ? "ingress" : "egress";
}

}  // namespace

std::map<std::string, uint64_t> Topology::acl_hits(const std::string& acl) const {
  const v1::FilterCounters c = filter_counters(*api_, v1::OBJECT_KIND_NETWORK_ACL, acl);
  std::map<std::string, uint64_t> out;
  for (const auto& h : c.rules()) {
    out[std::string(direction_text(h.direction())) + ":" + h.rule()] += h.packets();
  }
  out["ingress:default"] = c.default_ingress_packets();
  out["egress:default"] = c.default_egress_packets();
  return out;
}

std::map<std::string, uint64_t> Topology::sg_hits(const std::string& group) const {
  const v1::FilterCounters c = filter_counters(*api_, v1::OBJECT_KIND_SECURITY_GROUP, group);
  std::map<std::string, uint64_t> out;
  for (const auto& h : c.rules()) out[h.rule()] += h.packets();
  return out;
}

void Topology::set_filters(const Filters& want) {
  Filters f = want;
  if (f.acl_rules == 0) f.acl_nets = 0;
  if (f.sg_rules == 0) f.sg_vms = 0;
  if (f == filters_) return;
  const auto t0 = std::chrono::steady_clock::now();
  // The ACL passes what the ACL benchmarks send (UDP from vm1 to the 172.16/12 aggregate, port
  // 5000); the group admits what the security-group benchmarks send (TCP from n1, port 5000).
  const BenchTraffic acl_traffic{{0x0a000100u, 24}, {0xac100000u, 12}, "udp", 5000};
  const BenchTraffic sg_traffic{{0x0a000100u, 24}, {0xac100000u, 12}, "tcp", 5000};
  v1::UpsertRequest req;
  req.set_replace(true);
  if (f.acl_rules > 0) *req.add_objects() = bench_network_acl(kBenchAcl, f.acl_rules, acl_traffic);
  if (f.sg_rules > 0) *req.add_objects() = bench_security_group(kBenchSg, f.sg_rules, sg_traffic);
  v1::Object n1 = network("n1", 101), n2 = network("n2", 102);
  if (f.acl_nets >= 2) n1.mutable_network()->set_network_acl_id(kBenchAcl);
  if (f.acl_nets >= 1) n2.mutable_network()->set_network_acl_id(kBenchAcl);
  *req.add_objects() = n1;
  *req.add_objects() = n2;
  v1::Object vm1 = vm_port("vm1", "n1", "02:aa:00:00:00:01", "10.0.1.10", "src");
  v1::Object vm2 = vm_port("vm2", "n2", "02:aa:00:00:00:02", "10.0.2.20", "sink_r");
  v1::Object vm3 = vm_port("vm3", "n1", "02:aa:00:00:00:03", "10.0.1.30", "sink_l2");
  if (f.sg_vms >= 2) vm1.mutable_vm_port()->add_security_group_ids(kBenchSg);
  if (f.sg_vms >= 1) {
    vm2.mutable_vm_port()->add_security_group_ids(kBenchSg);
    vm3.mutable_vm_port()->add_security_group_ids(kBenchSg);
  }
  *req.add_objects() = vm1;
  *req.add_objects() = vm2;
  *req.add_objects() = vm3;
  ++serial_;
  upsert(req, "the filters");
  const auto remove = [&](v1::ObjectKind kind, const char* id) {
    v1::DeleteRequest del;
    del.set_kind(kind);
    del.set_id(id);
    const v1::Response r = api_->remove(del);
    if (r.status() != v1::STATUS_OK) {
      throw std::runtime_error(std::string("removing ") + id + " refused: " + r.message());
    }
  };
  if (filters_.acl_rules > 0 && f.acl_rules == 0) remove(v1::OBJECT_KIND_NETWORK_ACL, kBenchAcl);
  if (filters_.sg_rules > 0 && f.sg_rules == 0) remove(v1::OBJECT_KIND_SECURITY_GROUP, kBenchSg);
  filters_ = f;
  std::fprintf(stderr,
               "setup: filters: network ACL of %u rules on %s, security group of %u rules on %s "
               "(%.1f s; ACL classifiers %.1f MiB)\n",
               f.acl_rules,
               f.acl_nets == 0   ? "-"
               : f.acl_nets == 1 ? "n2"
                                 : "n1 and n2",
               f.sg_rules,
               f.sg_vms == 0   ? "-"
               : f.sg_vms == 1 ? "vm2 and vm3"
                               : "vm1, vm2, vm3",
               seconds_since(t0), static_cast<double>(acl_memory_bytes()) / (1 << 20));
}

void Topology::upsert(const v1::UpsertRequest& req, const char* what) {
  const v1::Response r = api_->upsert(req);
  if (r.status() != v1::STATUS_OK) {
    throw std::runtime_error(std::string(what) + " refused: " + r.message());
  }
}

void Topology::rebuild(bool flow_cache) {
  api_.reset();
  dp_.reset();
  uplink_ = UINT16_MAX;
  ext_ = UINT16_MAX;
  uplink_mac_.clear();
  dp::DataplaneOptions o;
  o.mbufs = 4095;  // the drivers' pool; bursts come from the benchmark's own pool
  o.rx_desc = 128;
  o.tx_desc = 128;
  o.flow_cache_entries = flow_cache ? o.flow_cache_entries : 0;
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

// This host's identity: h1, with the overlay's uplink and tunnel address, and/or agent mode
// dvr_snat with physnet1 on the external port. The ports exist already.
void Topology::set_host(bool overlay, bool north_south) {
  v1::HostSetRequest hs;
  v1::HostIdentity* h = hs.mutable_host();
  h->set_host_id("h1");
  if (overlay) {
    h->set_dvr_mac(Overlay::kDvrMac);
    h->set_tunnel_ip(Overlay::kTunnelIp);
    h->set_tunnel_prefix_length(Overlay::kTunnelPrefix);
    h->set_uplink_port(Overlay::kUplink);
  }
  if (north_south) {
    h->set_agent_mode(v1::AGENT_MODE_DVR_SNAT);
    v1::PhysnetPort* pp = h->add_physnet_ports();
    pp->set_physical_network(NorthSouth::kPhysnet);
    pp->set_port(NorthSouth::kExtPort);
  }
  if (const v1::Response r = api_->host_set(hs); r.status() != v1::STATUS_OK) {
    throw std::runtime_error("the host identity refused: " + r.message());
  }
}

void Topology::add_overlay() {
  using O = Overlay;
  v1::UpsertRequest req;
  v1::Object remote;
  remote.mutable_remote_host()->set_host_id(O::kRemoteHost);
  remote.mutable_remote_host()->set_tunnel_ip(O::kRemoteTunnelIp);
  remote.mutable_remote_host()->set_dvr_mac(O::kRemoteDvrMac);
  for (const v1::Object& o : {
           remote,
           vm_port("rvm1", "n1", O::kRemoteVm1Mac, O::kRemoteVm1Ip, "", O::kRemoteHost),
           vm_port("rvm2", "n2", O::kRemoteVm2Mac, O::kRemoteVm2Ip, "", O::kRemoteHost),
       }) {
    *req.add_objects() = o;
  }
  upsert(req, "the remote host and its VMs");

  // h2 answers the ARP request dvrd sent for it (queued for worker 0, which never polls here):
  // the reply, as the uplink-input stage punts it to the control thread.
  const v1::Response st = api_->underlay(v1::UnderlayRequest{});
  uplink_mac_ = st.underlay().uplink_mac();
  const Mac remote_mac = *parse_mac(O::kRemoteUplinkMac);
  const std::optional<Mac> uplink_mac = parse_mac(uplink_mac_);
  if (!uplink_mac) throw std::runtime_error("the uplink has no MAC: '" + uplink_mac_ + "'");
  rte_mbuf* m = dp_->alloc_mbuf();
  if (m == nullptr) throw std::runtime_error("no mbuf for the underlay ARP reply");
  rte_ether_addr to, from;
  std::copy(uplink_mac->begin(), uplink_mac->end(), to.addr_bytes);
  std::copy(remote_mac.begin(), remote_mac.end(), from.addr_bytes);
  if (!dp::arp_build(m, RTE_ARP_OP_REPLY, to, from, *parse_ipv4(O::kRemoteTunnelIp), to,
                     *parse_ipv4(O::kTunnelIp))) {
    rte_pktmbuf_free(m);
    throw std::runtime_error("the underlay ARP reply does not fit an mbuf");
  }
  m->port = uplink_;
  api_->on_punt(dp::PuntItem{m, uplink_, dp::PuntReason::kUnderlayArp});
  rte_pktmbuf_free(m);

  const v1::UnderlayStatus u = api_->underlay(v1::UnderlayRequest{}).underlay();
  if (u.remote_hosts_size() != 1 || !u.remote_hosts(0).resolved()) {
    throw std::runtime_error("the overlay: remote host h2 is not resolved after the ARP reply");
  }
  std::fprintf(stderr, "setup: overlay: uplink %s (%s), h2 via %s, overlay MTU %u\n", O::kUplink,
               uplink_mac_.c_str(), u.remote_hosts(0).nexthop_mac().c_str(), u.overlay_mtu());
}

void Topology::add_north_south() {
  using N = NorthSouth;
  v1::Object ext = network(N::kNetwork, 0);
  ext.mutable_network()->set_external(true);
  ext.mutable_network()->set_provider_type(v1::PROVIDER_TYPE_FLAT);
  ext.mutable_network()->set_physical_network(N::kPhysnet);
  v1::Object sp = subnet("sp", N::kNetwork, N::kCidr);
  sp.mutable_subnet()->set_gateway_ip(N::kUpstreamIp);
  v1::Object r1 = router("r1");
  r1.mutable_router()->set_external_network_id(N::kNetwork);
  r1.mutable_router()->set_external_gateway_ip(N::kSnatIp);
  r1.mutable_router()->set_enable_snat(true);
  v1::Object gw;
  v1::FloatingIpGateway* g = gw.mutable_floating_ip_gateway();
  g->set_id("fg1");
  g->set_network_id(N::kNetwork);
  g->set_host_id("h1");
  g->set_ip(N::kFipGatewayIp);
  g->set_mac(N::kFipGatewayMac);
  v1::Object snat;
  snat.mutable_snat_binding()->set_router_id("r1");
  snat.mutable_snat_binding()->set_host_id("h1");  // SNAT IP: the gateway IP; default ports
  v1::Object fip;
  v1::FloatingIp* f = fip.mutable_floating_ip();
  f->set_id("fip1");
  f->set_router_id("r1");
  f->set_floating_ip(N::kVm1Fip);
  f->set_fixed_ip("10.0.1.10");
  f->set_vm_port_id("vm1");
  v1::UpsertRequest req;
  req.set_replace(true);  // r1 gets its external gateway
  for (const v1::Object& o : {ext, sp, r1, gw, snat, fip}) *req.add_objects() = o;
  upsert(req, "the external network, r1's gateway, SNAT and vm1's floating IP");

  // The upstream router answers the ARP request dvrd sent for it from the floating-IP gateway
  // (queued for worker 0, which never polls here): the reply goes through the pipeline on the
  // external port, which punts it, and the control thread learns it as it drains the punts.
  const Mac fip_gw_mac = *parse_mac(N::kFipGatewayMac);
  const Mac upstream_mac = *parse_mac(N::kUpstreamMac);
  rte_mbuf* m = dp_->alloc_mbuf();
  if (m == nullptr) throw std::runtime_error("no mbuf for the upstream router's ARP reply");
  rte_ether_addr to, from;
  std::copy(fip_gw_mac.begin(), fip_gw_mac.end(), to.addr_bytes);
  std::copy(upstream_mac.begin(), upstream_mac.end(), from.addr_bytes);
  if (!dp::arp_build(m, RTE_ARP_OP_REPLY, to, from, *parse_ipv4(N::kUpstreamIp), to,
                     *parse_ipv4(N::kFipGatewayIp))) {
    rte_pktmbuf_free(m);
    throw std::runtime_error("the upstream router's ARP reply does not fit an mbuf");
  }
  m->port = ext_;
  dp_->worker(0).process_burst(ext_, &m, 1);
  const size_t punted =
      dp_->drain_exceptions([&](const dp::PuntItem& item) { api_->on_punt(item); });

  const v1::ExternalStatus st = api_->external(v1::ExternalRequest{}).external();
  std::string learnt;
  size_t fips = 0, snats = 0;
  for (const auto& n : st.networks()) {
    if (n.network_id() != N::kNetwork) continue;
    fips = static_cast<size_t>(n.floating_ips_size());
    snats = static_cast<size_t>(n.snat_ips_size());
    for (const auto& nb : n.neighbors()) {
      if (nb.ip() == N::kUpstreamIp) learnt = nb.mac();
    }
  }
  if (learnt != N::kUpstreamMac || fips != 1 || snats != 1) {
    throw std::runtime_error(
        "north-south: the upstream router is not resolved after its ARP "
        "reply (" +
        std::to_string(punted) + " punted, MAC '" + learnt +
        "'), or public does not serve 1 floating IP and 1 SNAT address");
  }
  std::fprintf(stderr,
               "setup: north-south: %s on %s, upstream %s at %s, floating IP %s (vm1), SNAT %s "
               "ports %u-%u (vm2)\n",
               N::kNetwork, N::kExtPort, N::kUpstreamIp, learnt.c_str(), N::kVm1Fip, N::kSnatIp,
               N::kSnatPortMin, N::kSnatPortMax);
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
  ++serial_;
  if (s.routers < 1 || s.routes < kBaseRoutes) throw std::invalid_argument("bad scale");
  if (!dp_ || s.routers != scale_.routers || s.routes < scale_.routes ||
      s.flow_cache != scale_.flow_cache || s.overlay != scale_.overlay ||
      s.north_south != scale_.north_south) {
    if (dp_) std::fprintf(stderr, "setup: rebuilding the dataplane\n");
    rebuild(s.flow_cache);
    filters_ = Filters{0, 0, 0, 0};
    scale_ = {1, kBaseRoutes, s.flow_cache, false, false};
    if (s.overlay || s.north_south) {
      const auto null_port = [&](const char* name) {
        return dp_->add_port(dp::PortSpec{name, dp::PortType::kNull, {{"no-rx", "1"}}, {}})
            .record.port_id;
      };
      if (s.overlay) uplink_ = null_port(Overlay::kUplink);
      if (s.north_south) ext_ = null_port(NorthSouth::kExtPort);
      api_->ports_changed();
      set_host(s.overlay, s.north_south);
    }
    if (s.overlay) add_overlay();
    scale_.overlay = s.overlay;
    if (s.north_south) add_north_south();
    scale_.north_south = s.north_south;
    if (s.routers > 1) add_extra_routers(s.routers - 1);
    scale_.routers = s.routers;
  }
  if (s.routes > scale_.routes)
    add_extra_routes(scale_.routes - kBaseRoutes, s.routes - kBaseRoutes);
  scale_ = s;
}

}  // namespace dvr::bench
