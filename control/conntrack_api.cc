#include "conntrack_api.h"

#include <map>

#include "ip_protocol.h"
#include "net_addr.h"

namespace dvr {

namespace v1 = api::v1;

namespace {

constexpr uint32_t kDefaultLimit = 1000;

v1::Response fail(v1::Status s, std::string message) {
  v1::Response r;
  r.set_status(s);
  r.set_message(std::move(message));
  return r;
}

}  // namespace

v1::Response conntrack_dump(const dp::Dataplane& dp, const v1::ConntrackRequest& req) {
  // Zones are dataplane port ids; show and filter them by port name.
  std::map<uint16_t, std::string> name_of;
  std::optional<uint16_t> zone;
  for (const dp::PortStatus& st : dp.list_ports()) {
    name_of[st.record.port_id] = st.record.spec.name;
    if (st.record.spec.name == req.port()) zone = st.record.port_id;
  }
  if (!req.port().empty() && !zone) {
    return fail(v1::STATUS_NOT_FOUND, "no port named '" + req.port() + "'");
  }
  std::optional<uint32_t> ip;
  if (!req.ip().empty()) {
    ip = parse_ipv4(req.ip());
    if (!ip) return fail(v1::STATUS_INVALID_ARGUMENT, "'" + req.ip() + "' is not an IPv4 address");
  }
  int protocol = kAnyProtocol;
  if (!req.protocol().empty()) {
    const auto p = parse_ip_protocol(req.protocol());
    if (!p) {
      return fail(v1::STATUS_INVALID_ARGUMENT,
                  "'" + req.protocol() + "' is not a protocol (tcp, udp, icmp or 0..255)");
    }
    protocol = *p;
  }
  if (req.l4_port() > UINT16_MAX) {
    return fail(v1::STATUS_INVALID_ARGUMENT, "a port is 0..65535");
  }
  if (!req.state().empty()) {
    bool known = false;
    for (uint8_t s = 0; s < static_cast<uint8_t>(dp::ConnState::kCount); ++s) {
      known |= req.state() == dp::conn_state_name(static_cast<dp::ConnState>(s));
    }
    if (!known) {
      return fail(v1::STATUS_INVALID_ARGUMENT,
                  "'" + req.state() +
                      "' is not a state (new, replied, syn_sent, syn_recv, established, "
                      "fin_wait, time_wait, close)");
    }
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultLimit : req.limit();

  v1::Response r;
  r.set_status(v1::STATUS_OK);
  v1::ConntrackTable* out = r.mutable_conntrack();
  const dp::ConnTable& ct = dp.conntrack();
  const uint32_t now = dp.conntrack_now_ms();
  uint64_t matched = 0;
  ct.for_each(now, [&](const dp::ConnView& v) {
    const dp::FlowKey& k = v.orig;
    if (zone && k.zone != *zone) return true;
    if (ip && k.src_ip != *ip && k.dst_ip != *ip) return true;
    if (protocol != kAnyProtocol && k.protocol != protocol) return true;
    const bool has_ports = k.protocol == kProtoTcp || k.protocol == kProtoUdp;
    if (req.l4_port() != 0 &&
        (!has_ports || (k.src_port != req.l4_port() && k.dst_port != req.l4_port()))) {
      return true;
    }
    if (!req.state().empty() && req.state() != dp::conn_state_name(v.state)) return true;
    if (++matched > limit) return true;  // keep counting the matches
    v1::ConnEntry* e = out->add_entries();
    auto name = name_of.find(k.zone);
    e->set_port(name == name_of.end() ? "#" + std::to_string(k.zone) : name->second);
    e->set_protocol(ip_protocol_name(k.protocol));
    e->set_src_ip(format_ipv4(k.src_ip));
    e->set_dst_ip(format_ipv4(k.dst_ip));
    e->set_src_port(k.src_port);
    e->set_dst_port(k.dst_port);
    if (k.protocol == kProtoIcmp) e->set_dst_port(0);  // the echo id is src_port
    if (k.protocol == kProtoIcmp && k.src_port == dp::kIcmpEchoKeyPort) {
      e->set_src_port(k.dst_port);  // an echo reply seen first: the id is on the other side
    }
    e->set_state(dp::conn_state_name(v.state));
    e->set_admitted_by(v.created_at_ingress ? "ingress" : "egress");
    e->set_age_seconds(v.age_ms / 1000);
    e->set_idle_seconds(v.idle_ms / 1000);
    e->set_expires_in_seconds(v.expires_in_ms / 1000);
    return true;
  });
  out->set_matched(matched);
  out->set_live(ct.count_live(now));
  out->set_capacity(ct.capacity());
  return r;
}

}  // namespace dvr
