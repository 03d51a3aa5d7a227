#include "filter_rules.h"

#include <set>

#include "ip_protocol.h"

namespace dvr {

namespace v1 = api::v1;

namespace {

std::string q(const std::string& s) {
  return "'" + s + "'";
}

// A PortRange as sent: unset (0-0) means any; otherwise min <= max <= 65535.
std::optional<std::string> parse_ports(const v1::PortRange& r, int protocol, const char* what,
                                       PortMatch* out) {
  if (r.min() == 0 && r.max() == 0) return std::nullopt;
  if (protocol != kProtoTcp && protocol != kProtoUdp) {
    return std::string(what) + " are only valid with protocol tcp or udp";
  }
  if (r.max() > UINT16_MAX || r.min() > r.max()) {
    return std::string(what) + " " + std::to_string(r.min()) + "-" + std::to_string(r.max()) +
           " is not a range within 0-65535";
  }
  out->min = static_cast<uint16_t>(r.min());
  out->max = static_cast<uint16_t>(r.max());
  return std::nullopt;
}

template <typename Rule>
std::optional<std::string> parse_icmp(const Rule& r, int protocol, IcmpMatch* out) {
  if (!r.has_icmp_type() && !r.has_icmp_code()) return std::nullopt;
  if (protocol != kProtoIcmp)
    return std::string("ICMP type/code are only valid with protocol icmp");
  if (!r.has_icmp_type()) return std::string("an ICMP code needs an ICMP type");
  if (r.icmp_type() > 255 || (r.has_icmp_code() && r.icmp_code() > 255)) {
    return std::string("ICMP type and code are 0..255");
  }
  out->type = static_cast<uint8_t>(r.icmp_type());
  if (r.has_icmp_code()) out->code = static_cast<uint8_t>(r.icmp_code());
  return std::nullopt;
}

std::optional<std::string> parse_cidr(const std::string& text, const char* what, Ipv4Prefix* out) {
  if (text.empty()) return std::nullopt;  // any
  const auto p = parse_ipv4_prefix(text, true);
  if (!p) return std::string(what) + " " + q(text) + " is not an IPv4 prefix with zero host bits";
  *out = *p;
  return std::nullopt;
}

std::optional<int> protocol_of(const std::string& text) {
  return parse_ip_protocol(text);
}

}  // namespace

PortMatch IcmpMatch::as_port_range() const {
  if (!type) return {};
  const uint16_t base = static_cast<uint16_t>(*type << 8);
  if (!code) return {base, static_cast<uint16_t>(base | 0xff)};
  return {static_cast<uint16_t>(base | *code), static_cast<uint16_t>(base | *code)};
}

std::optional<std::string> parse_network_acl(const v1::NetworkAcl& acl,
                                             std::vector<AclRuleSpec>* rules) {
  const std::string who = "network ACL " + q(acl.id());
  if (static_cast<size_t>(acl.rules_size()) > kMaxAclRules) {
    return who + " has " + std::to_string(acl.rules_size()) + " rules; the limit is " +
           std::to_string(kMaxAclRules);
  }
  std::set<std::pair<bool, uint32_t>> numbers;
  for (const v1::AclRule& r : acl.rules()) {
    AclRuleSpec s;
    const std::string rule = who + " rule " + std::to_string(r.number());
    if (r.number() < 1 || r.number() > kMaxAclRuleNumber) {
      return who + ": rule number " + std::to_string(r.number()) + " is outside 1.." +
             std::to_string(kMaxAclRuleNumber);
    }
    s.number = r.number();
    if (r.direction() != v1::DIRECTION_INGRESS && r.direction() != v1::DIRECTION_EGRESS) {
      return rule + ": direction must be ingress or egress";
    }
    s.ingress = r.direction() == v1::DIRECTION_INGRESS;
    if (!numbers.emplace(s.ingress, s.number).second) {
      return rule + ": the number is used twice in the " + (s.ingress ? "ingress" : "egress") +
             " direction";
    }
    if (r.action() != v1::ACL_ACTION_ALLOW && r.action() != v1::ACL_ACTION_DENY) {
      return rule + ": action must be allow or deny";
    }
    s.allow = r.action() == v1::ACL_ACTION_ALLOW;
    const auto proto = protocol_of(r.protocol());
    if (!proto)
      return rule + ": protocol " + q(r.protocol()) + " is not any, tcp, udp, icmp or 0..255";
    s.protocol = *proto;
    if (auto e = parse_cidr(r.source_cidr(), "source", &s.source)) return rule + ": " + *e;
    if (auto e = parse_cidr(r.destination_cidr(), "destination", &s.destination))
      return rule + ": " + *e;
    if (auto e = parse_ports(r.source_ports(), s.protocol, "source ports", &s.source_ports))
      return rule + ": " + *e;
    if (auto e = parse_ports(r.destination_ports(), s.protocol, "destination ports",
                             &s.destination_ports))
      return rule + ": " + *e;
    if (auto e = parse_icmp(r, s.protocol, &s.icmp)) return rule + ": " + *e;
    rules->push_back(s);
  }
  for (const auto action : {acl.default_ingress(), acl.default_egress()}) {
    if (action != v1::ACL_ACTION_UNSPECIFIED && action != v1::ACL_ACTION_ALLOW &&
        action != v1::ACL_ACTION_DENY) {
      return who + ": unknown default action";
    }
  }
  return std::nullopt;
}

std::optional<std::string> parse_security_group(const v1::SecurityGroup& group,
                                                std::vector<SgRuleSpec>* rules) {
  const std::string who = "security group " + q(group.id());
  if (static_cast<size_t>(group.rules_size()) > kMaxSecurityGroupRules) {
    return who + " has " + std::to_string(group.rules_size()) + " rules; the limit is " +
           std::to_string(kMaxSecurityGroupRules);
  }
  std::set<std::string> ids;
  for (const v1::SecurityGroupRule& r : group.rules()) {
    SgRuleSpec s;
    if (r.id().empty()) return who + ": a rule without an id";
    if (!ids.insert(r.id()).second) return who + ": rule id " + q(r.id()) + " is used twice";
    const std::string rule = who + " rule " + q(r.id());
    s.id = r.id();
    if (r.direction() != v1::DIRECTION_INGRESS && r.direction() != v1::DIRECTION_EGRESS) {
      return rule + ": direction must be ingress or egress";
    }
    s.ingress = r.direction() == v1::DIRECTION_INGRESS;
    if (r.ethertype() == "IPv6" || r.ethertype() == "ipv6") {
      s.ipv6 = true;
    } else if (!r.ethertype().empty() && r.ethertype() != "IPv4" && r.ethertype() != "ipv4") {
      return rule + ": ethertype " + q(r.ethertype()) + " is not IPv4 or IPv6";
    }
    const auto proto = protocol_of(r.protocol());
    if (!proto)
      return rule + ": protocol " + q(r.protocol()) + " is not any, tcp, udp, icmp or 0..255";
    s.protocol = *proto;
    if (auto e = parse_ports(r.ports(), s.protocol, "ports", &s.ports)) return rule + ": " + *e;
    if (auto e = parse_icmp(r, s.protocol, &s.icmp)) return rule + ": " + *e;
    if (!r.remote_ip_prefix().empty() && !r.remote_group_id().empty()) {
      return rule + ": remote_ip_prefix and remote_group_id are mutually exclusive";
    }
    if (!s.ipv6) {
      if (auto e = parse_cidr(r.remote_ip_prefix(), "remote prefix", &s.remote_prefix))
        return rule + ": " + *e;
    }
    s.remote_group_id = r.remote_group_id();
    rules->push_back(s);
  }
  return std::nullopt;
}

}  // namespace dvr
