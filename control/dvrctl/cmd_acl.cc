#include "cmd_acl.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "errors.h"
#include "format.h"
#include "json_output.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;
using google::protobuf::util::MessageDifferencer;

namespace {

constexpr uint32_t kMaxRuleNumber = 32766;

std::string help_for(const Invocation& inv) {
  return "dvrctl " + inv.name;
}

// `text` as a decimal number no larger than `max`; nullopt when it is not one.
std::optional<uint32_t> parse_number(std::string_view text, uint32_t max) {
  uint32_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value > max) return std::nullopt;
  return value;
}

uint32_t parse_rule_number(const Invocation& inv, const std::string& text) {
  const auto n = parse_number(text, kMaxRuleNumber);
  if (!n || *n == 0) {
    throw UsageError(inv.name + ": '" + text + "' is not a rule number from 1 to " +
                         std::to_string(kMaxRuleNumber),
                     help_for(inv));
  }
  return *n;
}

v1::AclAction parse_action(const Invocation& inv, const std::string& what,
                           const std::string& text) {
  if (text == "allow") return v1::ACL_ACTION_ALLOW;
  if (text == "deny") return v1::ACL_ACTION_DENY;
  throw UsageError(inv.name + ": " + what + "'" + text + "' is neither allow nor deny",
                   help_for(inv));
}

// The value of an "allow|deny" option; `fallback` when not given.
v1::AclAction action_option(const ParsedArgs& args, const Invocation& inv, std::string_view option,
                            v1::AclAction fallback) {
  const auto text = args.value(option);
  if (!text) return fallback;
  return parse_action(inv, std::string(option) + ": ", *text);
}

// UNSPECIFIED means deny.
const char* action_name(v1::AclAction a) {
  return a == v1::ACL_ACTION_ALLOW ? "allow" : "deny";
}

std::string acl_what(const std::string& id) {
  return "network ACL '" + id + "'";
}

std::string rule_what(v1::Direction d, uint32_t number) {
  return std::string(direction_name(d)) + " rule " + std::to_string(number);
}

// The network ACL `id` as dvrd holds it (a ListRequest). Throws RequestFailed(NOT_FOUND) when
// there is none.
v1::Object fetch_acl(Session& session, const std::string& id) {
  v1::ObjectList acls = list_objects(session, v1::OBJECT_KIND_NETWORK_ACL);
  for (v1::Object& obj : *acls.mutable_objects()) {
    if (obj.has_network_acl() && obj.network_acl().id() == id) return std::move(obj);
  }
  throw RequestFailed(v1::STATUS_NOT_FOUND, "no " + acl_what(id));
}

// The index of the rule with this number and direction in `acl`; -1 when there is none.
int find_rule(const v1::NetworkAcl& acl, v1::Direction d, uint32_t number) {
  for (int i = 0; i < acl.rules_size(); ++i) {
    if (acl.rules(i).direction() == d && acl.rules(i).number() == number) return i;
  }
  return -1;
}

std::string cidr_text(const std::string& cidr) {
  return cidr.empty() ? "any" : cidr;
}

}  // namespace

v1::Direction parse_direction(const Invocation& inv, const std::string& text) {
  if (text == "ingress") return v1::DIRECTION_INGRESS;
  if (text == "egress") return v1::DIRECTION_EGRESS;
  throw UsageError(inv.name + ": '" + text + "' is neither ingress nor egress", help_for(inv));
}

const char* direction_name(v1::Direction d) {
  switch (d) {
    case v1::DIRECTION_INGRESS:
      return "ingress";
    case v1::DIRECTION_EGRESS:
      return "egress";
    default:
      return "-";
  }
}

std::optional<v1::PortRange> port_range_option(const ParsedArgs& args, const Invocation& inv,
                                               std::string_view option) {
  const auto text = args.value(option);
  if (!text) return std::nullopt;
  const size_t dash = text->find('-');
  const auto min = parse_number(std::string_view(*text).substr(0, dash), 65535);
  const auto max = dash == std::string::npos
                       ? min
                       : parse_number(std::string_view(*text).substr(dash + 1), 65535);
  if (!min || !max) {
    throw UsageError(inv.name + ": " + std::string(option) + ": '" + *text +
                         "' is not a port or a range MIN-MAX of ports from 0 to 65535",
                     help_for(inv));
  }
  if (*min > *max) {
    throw UsageError(
        inv.name + ": " + std::string(option) + ": in '" + *text + "' MIN is larger than MAX",
        help_for(inv));
  }
  v1::PortRange range;
  range.set_min(*min);
  range.set_max(*max);
  return range;
}

std::optional<uint32_t> byte_option(const ParsedArgs& args, const Invocation& inv,
                                    std::string_view option) {
  const auto text = args.value(option);
  if (!text) return std::nullopt;
  const auto value = parse_number(*text, 255);
  if (!value) {
    throw UsageError(
        inv.name + ": " + std::string(option) + ": '" + *text + "' is not a number from 0 to 255",
        help_for(inv));
  }
  return value;
}

std::optional<std::string> nonempty_option(const ParsedArgs& args, const Invocation& inv,
                                           std::string_view option) {
  if (!args.has(option)) return std::nullopt;
  return required_option(args, inv, option);
}

std::string port_range_text(const v1::PortRange& r) {
  if (r.min() == 0 && r.max() == 0) return "";
  if (r.min() == r.max()) return std::to_string(r.min());
  return std::to_string(r.min()) + "-" + std::to_string(r.max());
}

std::string protocol_text(const std::string& protocol) {
  return protocol.empty() ? "any" : protocol;
}

std::string icmp_text(bool has_type, uint32_t type, bool has_code, uint32_t code) {
  if (!has_type) return "";
  if (!has_code) return std::to_string(type);
  return std::to_string(type) + "/" + std::to_string(code);
}

int run_acl_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--tenant", true},
                                      {"--default-ingress", true},
                                      {"--default-egress", true},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  v1::Object obj;
  v1::NetworkAcl& acl = *obj.mutable_network_acl();
  acl.set_id(args.positional[0]);
  acl.set_tenant_id(args.value("--tenant").value_or(""));
  acl.set_default_ingress(action_option(args, inv, "--default-ingress", v1::ACL_ACTION_DENY));
  acl.set_default_egress(action_option(args, inv, "--default-egress", v1::ACL_ACTION_DENY));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_acl_set_default(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"ID", "ingress|egress", "allow|deny"}, 3);
  const v1::Direction direction = parse_direction(inv, args.positional[1]);
  const v1::AclAction action = parse_action(inv, "", args.positional[2]);
  v1::Object obj = fetch_acl(session, args.positional[0]);
  v1::NetworkAcl& acl = *obj.mutable_network_acl();
  if (direction == v1::DIRECTION_INGRESS) {
    acl.set_default_ingress(action);
  } else {
    acl.set_default_egress(action);
  }
  return upsert_object(session, std::move(obj), true);
}

int run_acl_rule_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--protocol", true},
                                      {"--source", true},
                                      {"--destination", true},
                                      {"--source-ports", true},
                                      {"--destination-ports", true},
                                      {"--icmp-type", true},
                                      {"--icmp-code", true},
                                      {"--replace", false}},
                                     {"ACL", "NUMBER", "ingress|egress", "allow|deny"}, 4);
  v1::AclRule rule;
  rule.set_number(parse_rule_number(inv, args.positional[1]));
  rule.set_direction(parse_direction(inv, args.positional[2]));
  rule.set_action(parse_action(inv, "", args.positional[3]));
  rule.set_protocol(nonempty_option(args, inv, "--protocol").value_or(""));
  rule.set_source_cidr(nonempty_option(args, inv, "--source").value_or(""));
  rule.set_destination_cidr(nonempty_option(args, inv, "--destination").value_or(""));
  if (const auto r = port_range_option(args, inv, "--source-ports")) {
    *rule.mutable_source_ports() = *r;
  }
  if (const auto r = port_range_option(args, inv, "--destination-ports")) {
    *rule.mutable_destination_ports() = *r;
  }
  if (const auto t = byte_option(args, inv, "--icmp-type")) rule.set_icmp_type(*t);
  if (const auto c = byte_option(args, inv, "--icmp-code")) rule.set_icmp_code(*c);

  v1::Object obj = fetch_acl(session, args.positional[0]);
  v1::NetworkAcl& acl = *obj.mutable_network_acl();
  const int existing = find_rule(acl, rule.direction(), rule.number());
  if (existing < 0) {
    *acl.add_rules() = std::move(rule);
  } else if (args.has("--replace") || MessageDifferencer::Equals(acl.rules(existing), rule)) {
    *acl.mutable_rules(existing) = std::move(rule);
  } else {
    throw RequestFailed(v1::STATUS_ALREADY_EXISTS, acl_what(acl.id()) +
                                                       " already has a different " +
                                                       rule_what(rule.direction(), rule.number()) +
                                                       "; give --replace to overwrite it");
  }
  return upsert_object(session, std::move(obj), true);
}

int run_acl_rule_remove(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"ACL", "NUMBER", "ingress|egress"}, 3);
  const uint32_t number = parse_rule_number(inv, args.positional[1]);
  const v1::Direction direction = parse_direction(inv, args.positional[2]);
  v1::Object obj = fetch_acl(session, args.positional[0]);
  v1::NetworkAcl& acl = *obj.mutable_network_acl();
  const int existing = find_rule(acl, direction, number);
  if (existing < 0) {
    throw RequestFailed(v1::STATUS_NOT_FOUND,
                        acl_what(acl.id()) + " has no " + rule_what(direction, number));
  }
  acl.mutable_rules()->DeleteSubrange(existing, 1);
  return upsert_object(session, std::move(obj), true);
}

int run_acl_show(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"ID"}, 1);
  const std::string& id = args.positional[0];
  // Everything is fetched before anything is printed, so that a failed request prints no
  // partial output.
  const v1::Object obj = session.json() ? v1::Object() : fetch_acl(session, id);
  v1::Request req;
  req.mutable_filter_counters()->set_kind(v1::OBJECT_KIND_NETWORK_ACL);
  req.mutable_filter_counters()->set_id(id);
  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.filter_counters(), out);
    return 0;
  }
  const v1::FilterCounters& counters = resp.filter_counters();
  std::map<std::pair<v1::Direction, std::string>, uint64_t> hits;
  for (const v1::RuleHits& h : counters.rules()) hits[{h.direction(), h.rule()}] += h.packets();

  const v1::NetworkAcl& acl = obj.network_acl();
  const auto text = [](const std::string& s) { return s.empty() ? "-" : printable(s); };
  out << "network ACL:      " << text(acl.id()) << "\n"
      << "tenant:           " << text(acl.tenant_id()) << "\n"
      << "default ingress:  " << action_name(acl.default_ingress()) << " ("
      << counters.default_ingress_packets() << " packets)\n"
      << "default egress:   " << action_name(acl.default_egress()) << " ("
      << counters.default_egress_packets() << " packets)\n"
      << "\n";

  std::vector<const v1::AclRule*> rules;
  for (const v1::AclRule& r : acl.rules()) rules.push_back(&r);
  std::sort(rules.begin(), rules.end(), [](const v1::AclRule* a, const v1::AclRule* b) {
    return std::pair(a->direction(), a->number()) < std::pair(b->direction(), b->number());
  });
  Table table({{"DIRECTION"},
               {"NUMBER", Align::kRight},
               {"ACTION"},
               {"PROTOCOL"},
               {"SOURCE"},
               {"SOURCE-PORTS"},
               {"DESTINATION"},
               {"DESTINATION-PORTS"},
               {"ICMP"},
               {"HITS", Align::kRight}});
  for (const v1::AclRule* r : rules) {
    const auto h = hits.find({r->direction(), std::to_string(r->number())});
    table.add_row(
        {direction_name(r->direction()), std::to_string(r->number()), action_name(r->action()),
         protocol_text(r->protocol()), cidr_text(r->source_cidr()),
         port_range_text(r->source_ports()), cidr_text(r->destination_cidr()),
         port_range_text(r->destination_ports()),
         icmp_text(r->has_icmp_type(), r->icmp_type(), r->has_icmp_code(), r->icmp_code()),
         std::to_string(h == hits.end() ? 0 : h->second)});
  }
  table.print(out);
  return 0;
}

int run_acl_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  const v1::ObjectList acls = list_objects(session, v1::OBJECT_KIND_NETWORK_ACL);
  if (session.json()) {
    print_json(acls, session.out());
    return 0;
  }
  std::map<std::string, std::string> networks;  // ACL id -> "net1,net2"
  const v1::ObjectList network_list = list_objects(session, v1::OBJECT_KIND_NETWORK);
  for (const v1::Object& obj : network_list.objects()) {
    if (!obj.has_network() || obj.network().network_acl_id().empty()) continue;
    std::string& list = networks[obj.network().network_acl_id()];
    if (!list.empty()) list += ',';
    list += obj.network().id();
  }
  Table table({{"ID"},
               {"TENANT"},
               {"RULES", Align::kRight},
               {"DEFAULT-INGRESS"},
               {"DEFAULT-EGRESS"},
               {"NETWORKS"}});
  print_objects(session, acls, std::move(table),
                [&](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_network_acl()) return {};
                  const v1::NetworkAcl& a = obj.network_acl();
                  const auto nets = networks.find(a.id());
                  return {a.id(),
                          a.tenant_id(),
                          std::to_string(a.rules_size()),
                          action_name(a.default_ingress()),
                          action_name(a.default_egress()),
                          nets == networks.end() ? "" : nets->second};
                });
  return 0;
}

int run_acl_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_NETWORK_ACL, true);
}

}  // namespace dvrctl
