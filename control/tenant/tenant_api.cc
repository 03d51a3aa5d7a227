#include "tenant_api.h"

namespace dvr {

namespace v1 = api::v1;

namespace {

v1::Response status(v1::Status s, const std::string& message = {}) {
  v1::Response r;
  r.set_status(s);
  r.set_message(message);
  return r;
}

v1::Response from_error(const ModelError& e) {
  return status(e.status, e.message);
}

}  // namespace

v1::Response TenantApi::commit(TenantModel previous) {
  if (auto e = forwarding_.apply(model_)) {
    model_ = std::move(previous);
    return from_error(*e);
  }
  underlay_.configure(model_.host(), model_.remote_hosts(), forwarding_.vteps());
  external_.configure(forwarding_.externals());
  return status(v1::STATUS_OK);
}

v1::Response TenantApi::upsert(const v1::UpsertRequest& req) {
  TenantModel previous = model_;
  if (auto e = model_.upsert(req.objects(), req.replace())) return from_error(*e);
  return commit(std::move(previous));
}

v1::Response TenantApi::remove(const v1::DeleteRequest& req) {
  TenantModel previous = model_;
  if (auto e = model_.remove(req.kind(), req.id(), req.cascade(), req.missing_ok())) {
    return from_error(*e);
  }
  return commit(std::move(previous));
}

v1::Response TenantApi::list(const v1::ListRequest& req) const {
  if (!TenantModel::supported(req.kind())) {
    return status(v1::STATUS_UNIMPLEMENTED, std::string("this dvrd does not implement ") +
                                                object_kind_name(req.kind()) + " objects yet");
  }
  v1::Response r = status(v1::STATUS_OK);
  *r.mutable_objects() = model_.list(req.kind());
  return r;
}

v1::Response TenantApi::route_table(const v1::RouteTableRequest& req) const {
  if (!model_.routers().contains(req.router_id())) {
    return status(v1::STATUS_NOT_FOUND, "no router '" + req.router_id() + "'");
  }
  v1::Response r = status(v1::STATUS_OK);
  v1::RouteTable* t = r.mutable_route_table();
  t->set_router_id(req.router_id());
  for (const RouteView& v : forwarding_.routes_of(req.router_id())) {
    v1::RouteEntry* e = t->add_routes();
    e->set_prefix(v.prefix);
    e->set_origin(v.origin);
    e->set_nexthop(v.nexthop);
    e->set_egress_subnet_id(v.egress_subnet);
    e->set_nexthop_mac(v.nexthop_mac);
  }
  return r;
}

v1::Response TenantApi::neighbor_table(const v1::NeighborTableRequest& req) const {
  if (!req.network_id().empty() && !model_.networks().contains(req.network_id())) {
    return status(v1::STATUS_NOT_FOUND, "no network '" + req.network_id() + "'");
  }
  v1::Response r = status(v1::STATUS_OK);
  v1::NeighborTable* t = r.mutable_neighbor_table();
  auto wanted = [&](const std::string& net) {
    return req.network_id().empty() || net == req.network_id();
  };
  // The gateways first: dvrd answers ARP for them too.
  for (const auto& [id, ri] : model_.interfaces()) {
    const v1::Subnet& s = model_.subnets().at(ri.subnet_id());
    if (!wanted(s.network_id())) continue;
    v1::Neighbor* n = t->add_neighbors();
    n->set_network_id(s.network_id());
    n->set_ip(s.gateway_ip());
    n->set_mac(ri.gateway_mac());
    n->set_vm_port_id("router-interface:" + id);
    n->set_host_id(model_.host().host_id());
  }
  for (const auto& [id, p] : model_.vm_ports()) {
    if (!wanted(p.network_id())) continue;
    for (const auto& ip : p.fixed_ips()) {
      v1::Neighbor* n = t->add_neighbors();
      n->set_network_id(p.network_id());
      n->set_ip(ip);
      n->set_mac(p.mac());
      n->set_vm_port_id(id);
      n->set_host_id(p.dataplane_port().empty() ? p.host_id() : model_.host().host_id());
    }
  }
  return r;
}

v1::Response TenantApi::host_set(const v1::HostSetRequest& req) {
  TenantModel previous = model_;
  if (auto e = model_.set_host(req.host())) return from_error(*e);
  return commit(std::move(previous));
}

v1::Response TenantApi::filter_counters(const v1::FilterCountersRequest& req) const {
  const bool acl = req.kind() == v1::OBJECT_KIND_NETWORK_ACL;
  if (!acl && req.kind() != v1::OBJECT_KIND_SECURITY_GROUP) {
    return status(v1::STATUS_INVALID_ARGUMENT,
                  "hit counters exist for network ACLs and security groups only");
  }
  const bool known =
      acl ? model_.network_acls().contains(req.id()) : model_.security_groups().contains(req.id());
  if (!known) {
    return status(v1::STATUS_NOT_FOUND,
                  std::string("no ") + object_kind_name(req.kind()) + " '" + req.id() + "'");
  }
  auto counters = forwarding_.filters().counters(req.kind(), req.id());
  v1::Response r = status(v1::STATUS_OK);
  v1::FilterCounters* out = r.mutable_filter_counters();
  if (acl) {
    *out = *counters;
    return r;
  }
  // Every rule of the group, in the group's order, with zero for rules no port uses yet.
  out->set_kind(req.kind());
  out->set_id(req.id());
  for (const auto& rule : model_.security_groups().at(req.id()).rules()) {
    v1::RuleHits* h = out->add_rules();
    h->set_rule(rule.id());
    h->set_direction(rule.direction());
    if (!counters) continue;
    for (const auto& c : counters->rules()) {
      if (c.rule() == rule.id()) h->set_packets(c.packets());
    }
  }
  return r;
}

void TenantApi::ports_changed(const std::string& leaving) {
  // Binding a port never exceeds a limit, so this cannot fail.
  forwarding_.apply(model_, leaving);
  underlay_.configure(model_.host(), model_.remote_hosts(), forwarding_.vteps(), leaving);
  external_.configure(forwarding_.externals());
}

v1::Response TenantApi::underlay(const v1::UnderlayRequest&) const {
  v1::Response r = status(v1::STATUS_OK);
  *r.mutable_underlay() = underlay_.status();
  return r;
}

void TenantApi::on_punt(const dp::PuntItem& item) {
  switch (item.reason) {
    case dp::PuntReason::kUnderlayArp:
      underlay_.on_arp_reply(item.pkt);
      break;
    case dp::PuntReason::kExternalArp:
      external_.on_arp(item.pkt, item.port);
      break;
    case dp::PuntReason::kExternalResolve:
      external_.on_resolve(item.pkt);
      break;
    default:
      break;
  }
}

void TenantApi::tick() {
  underlay_.tick();
  external_.tick();
  // A full pass over a pool's slots every 64 ticks (or sooner for small port ranges).
  const uint32_t now = dp_.conntrack_now_ms();
  for (const auto& [id, pool] : forwarding_.snat_pools()) {
    pool->sweep(now, pool->slot_count() / 64 + 1);
  }
}

v1::Response TenantApi::external(const v1::ExternalRequest&) const {
  v1::Response r = status(v1::STATUS_OK);
  *r.mutable_external() = external_.status();
  return r;
}

v1::Response TenantApi::snat_sessions(const v1::SnatSessionsRequest& req) const {
  if (!req.router_id().empty() && !model_.routers().contains(req.router_id())) {
    return status(v1::STATUS_NOT_FOUND, "no router '" + req.router_id() + "'");
  }
  const uint32_t limit = req.limit() == 0 ? 1000 : req.limit();
  const uint32_t now = dp_.conntrack_now_ms();
  v1::Response r = status(v1::STATUS_OK);
  v1::SnatSessions* out = r.mutable_snat_sessions();
  uint64_t matched = 0;
  for (const auto& [id, pool] : forwarding_.snat_pools()) {
    if (!req.router_id().empty() && id != req.router_id()) continue;
    const std::string outside = format_ipv4(pool->snat_ip());
    pool->for_each(now, [&](const dp::SnatSessionView& v) {
      if (v.expires_in_ms == 0) return true;  // expired, not swept yet
      if (++matched > limit) return true;
      v1::SnatSession* s = out->add_sessions();
      s->set_router_id(id);
      s->set_protocol(dp::nat_proto_name(v.proto));
      s->set_inside_ip(format_ipv4(v.inside_ip));
      s->set_inside_port(v.inside_port);
      s->set_outside_ip(outside);
      s->set_outside_port(v.outside_port);
      s->set_state(v.state);
      s->set_idle_seconds(v.idle_ms / 1000);
      s->set_expires_in_seconds(v.expires_in_ms / 1000);
      return true;
    });
  }
  out->set_matched(matched);
  return r;
}

void TenantApi::fill_snat_stats(v1::Stats& stats) const {
  const uint32_t now = dp_.conntrack_now_ms();
  for (const auto& [id, pool] : forwarding_.snat_pools()) {
    uint64_t live[dp::kNatProtoCount];
    pool->count_live(now, live);
    v1::SnatStats* s = stats.add_snat();
    s->set_router_id(id);
    s->set_snat_ip(format_ipv4(pool->snat_ip()));
    s->mutable_ports()->set_min(pool->port_min());
    s->mutable_ports()->set_max(pool->port_max());
    s->set_tcp_sessions(live[static_cast<size_t>(dp::NatProto::kTcp)]);
    s->set_udp_sessions(live[static_cast<size_t>(dp::NatProto::kUdp)]);
    s->set_icmp_sessions(live[static_cast<size_t>(dp::NatProto::kIcmp)]);
    s->set_exhausted(pool->exhausted());
    s->set_expired(pool->expired());
  }
}

void TenantApi::fill_router_stats(v1::Stats& stats) const {
  for (const auto& [id, r] : model_.routers()) {
    const auto idx = forwarding_.router_index(id);
    if (!idx) continue;
    const auto c = dp_.router_counters(static_cast<uint16_t>(*idx));
    v1::RouterStats* rs = stats.add_routers();
    rs->set_router_id(id);
    rs->set_routed_packets(c.routed);
    for (size_t i = 0; i < dp::kDropReasonCount; ++i) {
      if (c.drops[i] == 0) continue;
      v1::DropCount* d = rs->add_drop_reasons();
      d->set_reason(dp::kDropReasonNames[i]);
      d->set_packets(c.drops[i]);
    }
  }
}

}  // namespace dvr
