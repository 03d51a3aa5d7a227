#include "api_handler.h"

#include "conntrack_api.h"
#include "errors.h"

#include <algorithm>

namespace dvr {

namespace v1 = api::v1;

namespace {

const char kVersion[] = "0.1.0";

v1::Response ok() {
  v1::Response r;
  r.set_status(v1::STATUS_OK);
  return r;
}

v1::Response error(v1::Status status, const std::string& message) {
  v1::Response r;
  r.set_status(status);
  r.set_message(message);
  return r;
}

v1::Status status_of(dp::ErrorKind k) {
  switch (k) {
    case dp::ErrorKind::kInvalidArgument:
      return v1::STATUS_INVALID_ARGUMENT;
    case dp::ErrorKind::kNotFound:
      return v1::STATUS_NOT_FOUND;
    case dp::ErrorKind::kAlreadyExists:
      return v1::STATUS_ALREADY_EXISTS;
    case dp::ErrorKind::kConflict:
      return v1::STATUS_CONFLICT;
    case dp::ErrorKind::kResourceExhausted:
      return v1::STATUS_RESOURCE_EXHAUSTED;
    case dp::ErrorKind::kInternal:
      return v1::STATUS_INTERNAL;
  }
  return v1::STATUS_INTERNAL;
}

constexpr std::pair<v1::PortType, dp::PortType> kPortTypes[] = {
    {v1::PORT_TYPE_VHOST_USER, dp::PortType::kVhostUser},
    {v1::PORT_TYPE_TAP, dp::PortType::kTap},
    {v1::PORT_TYPE_AF_PACKET, dp::PortType::kAfPacket},
    {v1::PORT_TYPE_PCAP, dp::PortType::kPcap},
    {v1::PORT_TYPE_NULL, dp::PortType::kNull},
    {v1::PORT_TYPE_RING, dp::PortType::kRing},
    {v1::PORT_TYPE_PCI, dp::PortType::kPci},
};

}  // namespace

std::optional<dp::PortType> port_type_from_api(v1::PortType t) {
  for (const auto& [api, dpt] : kPortTypes) {
    if (api == t) return dpt;
  }
  return std::nullopt;
}

v1::PortType port_type_to_api(dp::PortType t) {
  for (const auto& [api, dpt] : kPortTypes) {
    if (dpt == t) return api;
  }
  return v1::PORT_TYPE_UNSPECIFIED;
}

void fill_port_info(const dp::PortStatus& st, v1::PortInfo& out) {
  const dp::PortRecord& rec = st.record;
  v1::PortSpec* spec = out.mutable_spec();
  spec->set_name(rec.spec.name);
  spec->set_type(port_type_to_api(rec.spec.type));
  for (const auto& [k, v] : rec.spec.args) (*spec->mutable_args())[k] = v;
  spec->set_xconnect(rec.spec.xconnect);
  out.set_dpdk_port_id(rec.port_id);
  out.set_device_name(rec.device_name);
  out.set_driver(rec.driver);
  out.set_mac(st.mac);
  out.set_rx_queues(rec.rx_queues);
  out.set_tx_queues(rec.tx_queues);
  out.set_link(st.link == dp::LinkState::kUp     ? v1::LINK_STATE_UP
               : st.link == dp::LinkState::kDown ? v1::LINK_STATE_DOWN
                                                 : v1::LINK_STATE_UNKNOWN);
  out.set_mtu(st.mtu);
}

ApiHandler::ApiHandler(dp::Dataplane& dataplane, HostConfig host)
    : dp_(dataplane), host_(std::move(host)), tenant_(dataplane) {
  v1::HostSetRequest req;
  req.mutable_host()->set_host_id(host_.host_id);
  req.mutable_host()->set_distributed_default(host_.distributed_default);
  tenant_.host_set(req);
}

v1::HelloResponse ApiHandler::hello_response() {
  v1::HelloResponse h;
  h.set_api_version(v1::API_VERSION_1);
  h.set_dvrd_version(kVersion);
  *h.mutable_host() = tenant_.model().host();
  h.set_worker_count(dp_.worker_count());
  h.set_development_mode(host_.development_mode);
  return h;
}

void ApiHandler::tick() {
  dp_.drain_exceptions([this](const dp::PuntItem& item) { tenant_.on_punt(item); });
  tenant_.tick();
}

v1::Response ApiHandler::handle(const v1::Request& req, ClientInfo& /*client*/) {
  try {
    switch (req.body_case()) {
      case v1::Request::kPortAdd:
        return port_add(req.port_add());
      case v1::Request::kPortRemove:
        return port_remove(req.port_remove());
      case v1::Request::kPortList:
        return port_list();
      case v1::Request::kStats:
        return stats(req.stats());
      case v1::Request::kHostSet:
        return tenant_.host_set(req.host_set());
      case v1::Request::kUpsert:
        return tenant_.upsert(req.upsert());
      case v1::Request::kDelete:
        return tenant_.remove(req.delete_());
      case v1::Request::kList:
        return tenant_.list(req.list());
      case v1::Request::kRouteTable:
        return tenant_.route_table(req.route_table());
      case v1::Request::kNeighborTable:
        return tenant_.neighbor_table(req.neighbor_table());
      case v1::Request::kFilterCounters:
        return tenant_.filter_counters(req.filter_counters());
      case v1::Request::kConntrack:
        return conntrack_dump(dp_, req.conntrack());
      case v1::Request::kUnderlay:
        return tenant_.underlay(req.underlay());
      case v1::Request::kSnatSessions:
        return tenant_.snat_sessions(req.snat_sessions());
      case v1::Request::kExternal:
        return tenant_.external(req.external());
      default:
        return error(v1::STATUS_UNIMPLEMENTED, "unknown request type");
    }
  } catch (const dp::DataplaneError& e) {
    return error(status_of(e.kind()), e.what());
  }
}

v1::Response ApiHandler::port_add(const v1::PortAddRequest& req) {
  const v1::PortSpec& in = req.spec();
  const auto type = port_type_from_api(in.type());
  if (!type) {
    return error(v1::STATUS_INVALID_ARGUMENT,
                 "port '" + in.name() +
                     "': missing or unknown port type (types: " + dp::port_type_list() + ")");
  }
  dp::PortSpec spec;
  spec.name = in.name();
  spec.type = *type;
  spec.args.insert(in.args().begin(), in.args().end());
  spec.xconnect = in.xconnect();
  const dp::PortStatus st = dp_.add_port(spec);
  tenant_.ports_changed();  // a VM port may be waiting for this dataplane port
  v1::Response r = ok();
  fill_port_info(st, *r.mutable_port());
  return r;
}

v1::Response ApiHandler::port_remove(const v1::PortRemoveRequest& req) {
  try {
    // Unbind first, so that no version ever points a VM port at a port id that is reused.
    const auto ports = dp_.list_ports();
    if (std::any_of(ports.begin(), ports.end(),
                    [&](const dp::PortStatus& st) { return st.record.spec.name == req.name(); })) {
      tenant_.ports_changed(req.name());
    }
    dp_.remove_port(req.name());
  } catch (const dp::DataplaneError& e) {
    if (e.kind() == dp::ErrorKind::kNotFound && req.missing_ok()) return ok();
    throw;
  }
  return ok();
}

v1::Response ApiHandler::port_list() {
  v1::Response r = ok();
  for (const dp::PortStatus& st : dp_.list_ports())
    fill_port_info(st, *r.mutable_ports()->add_ports());
  return r;
}

v1::Response ApiHandler::stats(const v1::StatsRequest& req) {
  v1::Response r = ok();
  v1::Stats* out = r.mutable_stats();
  bool found = req.port().empty();
  for (const dp::PortStatsSnapshot& s : dp_.port_stats()) {
    if (!req.port().empty() && s.name != req.port()) continue;
    found = true;
    v1::PortStats* p = out->add_ports();
    p->set_name(s.name);
    p->set_rx_packets(s.rx_packets);
    p->set_rx_bytes(s.rx_bytes);
    p->set_tx_packets(s.tx_packets);
    p->set_tx_bytes(s.tx_bytes);
    uint64_t drops = 0;
    for (size_t i = 0; i < dp::kDropReasonCount; ++i) {
      if (s.drops[i] == 0) continue;
      drops += s.drops[i];
      v1::DropCount* d = p->add_drop_reasons();
      d->set_reason(dp::kDropReasonNames[i]);
      d->set_packets(s.drops[i]);
    }
    p->set_drops(drops);
    p->set_hw_rx_missed(s.hw.rx_missed);
    p->set_hw_rx_errors(s.hw.rx_errors);
    p->set_hw_tx_errors(s.hw.tx_errors);
    p->set_hw_rx_nombuf(s.hw.rx_nombuf);
  }
  if (!found) return error(v1::STATUS_NOT_FOUND, "no port named '" + req.port() + "'");
  for (const dp::WorkerSnapshot& w : dp_.worker_stats()) {
    v1::WorkerStats* o = out->add_workers();
    o->set_worker(w.id);
    o->set_lcore(w.lcore);
    o->set_busy_cycles(w.busy_cycles);
    o->set_idle_cycles(w.idle_cycles);
    o->set_polls(w.polls);
    o->set_empty_polls(w.empty_polls);
    o->set_sleeps(w.sleeps);
    o->set_punted(w.punted);
    o->set_punt_queue_full(w.punt_queue_full);
    o->set_rx_queues(w.rx_queues);
    o->set_config_generation(w.config_generation);
    o->set_arp_replies(w.arp_replies);
    o->set_echo_replies(w.echo_replies);
    o->set_icmp_errors_sent(w.icmp_errors_sent);
    o->set_icmp_errors_rate_limited(w.icmp_errors_rate_limited);
    o->set_conntrack_created(w.conntrack_created);
    o->set_conntrack_revoked(w.conntrack_revoked);
    o->set_flow_cache_hits(w.flow_cache_hits);
    o->set_flow_cache_misses(w.flow_cache_misses);
    o->set_vxlan_encapsulated(w.vxlan_encapsulated);
    o->set_vxlan_decapsulated(w.vxlan_decapsulated);
    o->set_flood_copies(w.flood_copies);
    o->set_nat_inbound(w.nat_inbound);
    o->set_nat_outbound(w.nat_outbound);
    o->set_snat_sessions_created(w.snat_sessions_created);
    o->set_snat_redirected(w.snat_redirected);
    o->set_nat_hairpinned(w.nat_hairpinned);
    for (const dp::StageSnapshot& st : w.stages) {
      v1::StageStats* ss = o->add_stages();
      ss->set_name(st.name);
      ss->set_packets(st.packets);
      ss->set_cycles(st.cycles);
    }
  }
  for (size_t i = 0; i < dp::kPuntReasonCount; ++i) {
    v1::PuntStats* p = out->add_punts();
    p->set_reason(dp::kPuntReasonNames[i]);
    p->set_packets(dp_.punts_received()[i]);
  }
  tenant_.fill_router_stats(*out);
  tenant_.fill_snat_stats(*out);
  v1::ConntrackStats* ct = out->mutable_conntrack();
  ct->set_capacity(dp_.conntrack().capacity());
  ct->set_live(dp_.conntrack().count_live(dp_.conntrack_now_ms()));
  ct->set_expired(dp_.conntrack_expired());
  out->set_tsc_hz(dp_.tsc_hz());
  out->set_config_generation(dp_.config_generation());
  return r;
}

}  // namespace dvr
