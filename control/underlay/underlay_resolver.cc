#include "underlay_resolver.h"

#include "arp_reply.h"
#include "neighbor_status.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <cstring>
#include <memory>

namespace dvr {

namespace v1 = api::v1;

namespace {

constexpr uint16_t kDefaultVxlanPort = 4789;

std::string mac_text(const std::array<uint8_t, 6>& m) {
  return format_mac(m);
}

}  // namespace

UnderlayResolver::UnderlayResolver(dp::Dataplane& dp, NeighborTimers timers)
    : dp_(dp), neighbors_(timers) {}

uint64_t UnderlayResolver::now_ms() const {
  return steady_now_ms();
}

void UnderlayResolver::configure(const v1::HostIdentity& host,
                                 const std::map<std::string, v1::RemoteHost>& remotes,
                                 const IndexMap& vteps, const std::string& leaving_port) {
  uplink_name_ = host.uplink_port();
  uplink_ = dp::kNoPort;
  tunnel_ip_ = 0;
  remotes_.clear();
  std::set<uint32_t> wanted;
  if (!uplink_name_.empty() && uplink_name_ != leaving_port) {
    for (const dp::PortStatus& st : dp_.list_ports()) {
      if (st.record.spec.name != uplink_name_) continue;
      uplink_ = st.record.port_id;
      if (const auto mac = parse_mac(st.mac)) uplink_mac_ = *mac;
      uplink_mtu_ = static_cast<uint16_t>(st.mtu == 0 ? 1500 : st.mtu);
    }
  }
  if (!uplink_name_.empty()) {
    tunnel_ip_ = *parse_ipv4(host.tunnel_ip());
    const auto depth = static_cast<uint8_t>(host.tunnel_prefix_length());
    onlink_ = Ipv4Prefix::of(tunnel_ip_, depth);
    udp_port_ = host.vxlan_udp_port() == 0 ? kDefaultVxlanPort
                                           : static_cast<uint16_t>(host.vxlan_udp_port());
    std::vector<UnderlayRouteEntry> routes;
    for (const auto& r : host.underlay_routes()) {
      routes.push_back({*parse_ipv4_prefix(r.destination()), *parse_ipv4(r.nexthop())});
    }
    for (const auto& [id, h] : remotes) {
      RemotePath p;
      p.host_id = id;
      p.ip = *parse_ipv4(h.tunnel_ip());
      p.vtep = static_cast<uint16_t>(*vteps.find(id));
      if (const auto nh = underlay_next_hop(p.ip, onlink_, routes)) {
        p.routed = true;
        p.nexthop = *nh;
        wanted.insert(*nh);
      }
      remotes_.push_back(p);
    }
  }
  neighbors_.set_wanted(uplink_ == dp::kNoPort ? std::set<uint32_t>{} : wanted);
  publish();
  tick();  // ask for new neighbours right away
}

void UnderlayResolver::publish() {
  auto st = std::make_shared<dp::UnderlayState>();
  st->uplink = uplink_;
  std::copy(uplink_mac_.begin(), uplink_mac_.end(), st->uplink_mac);
  st->uplink_mtu = uplink_mtu_;
  st->tunnel_ip = tunnel_ip_;
  st->udp_port = udp_port_;
  uint16_t size = 0;
  for (const RemotePath& p : remotes_) size = std::max<uint16_t>(size, p.vtep + 1);
  st->paths.resize(size);
  for (const RemotePath& p : remotes_) {
    const NeighborTable::Entry* e = p.routed ? neighbors_.find(p.nexthop) : nullptr;
    if (e == nullptr || !e->has_mac) continue;  // stays unresolved
    st->paths[p.vtep] = make_outer_header(uplink_mac_, e->mac, tunnel_ip_, p.ip, udp_port_);
  }
  dp_.set_underlay(std::move(st));
}

void UnderlayResolver::send_request(uint32_t target) {
  rte_mbuf* m = dp_.alloc_mbuf();
  if (m == nullptr) return;  // the pool is exhausted; the next tick asks again
  rte_ether_addr mine, broadcast, unknown{};
  std::copy(uplink_mac_.begin(), uplink_mac_.end(), mine.addr_bytes);
  std::memset(broadcast.addr_bytes, 0xff, sizeof(broadcast.addr_bytes));
  if (!dp::arp_build(m, RTE_ARP_OP_REQUEST, broadcast, mine, tunnel_ip_, unknown, target)) {
    rte_pktmbuf_free(m);
    return;
  }
  dp_.send_from_control(uplink_, m);  // a full queue frees it; the next tick asks again
}

void UnderlayResolver::on_arp_reply(const rte_mbuf* m) {
  if (uplink_ == dp::kNoPort) return;
  // The stage checked the ARP header's shape and that the target is our tunnel IP.
  const auto* arp = rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, sizeof(rte_ether_hdr));
  if (rte_pktmbuf_data_len(m) < sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr)) return;
  Mac mac;
  std::memcpy(mac.data(), &arp->arp_data.arp_sha, mac.size());  // packed: bytes, no references
  if (!is_unicast_mac(mac)) return;
  if (neighbors_.on_reply(rte_be_to_cpu_32(arp->arp_data.arp_sip), mac, now_ms())) publish();
}

void UnderlayResolver::tick() {
  if (uplink_ == dp::kNoPort) return;
  bool changed = false;
  for (uint32_t ip : neighbors_.tick(now_ms(), changed)) send_request(ip);
  if (changed) publish();
}

v1::UnderlayStatus UnderlayResolver::status() const {
  v1::UnderlayStatus s;
  s.set_uplink_port(uplink_name_);
  s.set_uplink_present(uplink_ != dp::kNoPort);
  if (uplink_name_.empty()) return s;
  if (uplink_ != dp::kNoPort) {
    s.set_uplink_mac(mac_text(uplink_mac_));
    s.set_uplink_mtu(uplink_mtu_);
    s.set_overlay_mtu(uplink_mtu_ > dp::kVxlanOverhead ? uplink_mtu_ - dp::kVxlanOverhead : 0);
  }
  s.set_tunnel_ip(format_ipv4(tunnel_ip_) + "/" + std::to_string(onlink_.depth));
  s.set_vxlan_udp_port(udp_port_);
  const uint64_t now = now_ms();
  append_neighbor_rows(neighbors_, now, s.mutable_neighbors());
  for (const RemotePath& p : remotes_) {
    v1::RemoteHostPath* r = s.add_remote_hosts();
    r->set_host_id(p.host_id);
    r->set_tunnel_ip(format_ipv4(p.ip));
    if (!p.routed) continue;
    r->set_nexthop(format_ipv4(p.nexthop));
    const NeighborTable::Entry* e = neighbors_.find(p.nexthop);
    if (e != nullptr && e->has_mac && uplink_ != dp::kNoPort) {
      r->set_nexthop_mac(mac_text(e->mac));
      r->set_resolved(true);
    }
  }
  return s;
}

}  // namespace dvr
