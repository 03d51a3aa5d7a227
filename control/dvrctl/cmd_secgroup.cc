#include "cmd_secgroup.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "cmd_acl.h"
#include "errors.h"
#include "format.h"
#include "json_output.h"
#include "objects.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;
using google::protobuf::util::MessageDifferencer;

namespace {

std::string group_what(const std::string& id) {
  return "security group '" + id + "'";
}

// The security group `id` as dvrd holds it (a ListRequest). Throws RequestFailed(NOT_FOUND)
// when there is none.
v1::Object fetch_group(Session& session, const std::string& id) {
  v1::ObjectList groups = list_objects(session, v1::OBJECT_KIND_SECURITY_GROUP);
  for (v1::Object& obj : *groups.mutable_objects()) {
    if (obj.has_security_group() && obj.security_group().id() == id) return std::move(obj);
  }
  throw RequestFailed(v1::STATUS_NOT_FOUND, "no " + group_what(id));
}

// The index of rule `id` in `group`; -1 when there is none.
int find_rule(const v1::SecurityGroup& group, const std::string& id) {
  for (int i = 0; i < group.rules_size(); ++i) {
    if (group.rules(i).id() == id) return i;
  }
  return -1;
}

// "IPv4" or "IPv6" (dvrd also takes the lower-case spellings); "IPv4" when not given.
std::string ethertype_option(const ParsedArgs& args, const Invocation& inv) {
  const auto text = args.value("--ethertype");
  if (!text || *text == "IPv4" || *text == "ipv4") return "IPv4";
  if (*text == "IPv6" || *text == "ipv6") return "IPv6";
  throw UsageError(inv.name + ": --ethertype: '" + *text + "' is neither IPv4 nor IPv6",
                   "dvrctl " + inv.name);
}

std::string remote_text(const v1::SecurityGroupRule& r) {
  if (!r.remote_group_id().empty()) return "group:" + r.remote_group_id();
  return r.remote_ip_prefix().empty() ? "any" : r.remote_ip_prefix();
}

// The ids of the VM ports that are members of a group, by group id.
std::map<std::string, std::vector<std::string>> members_by_group(Session& session) {
  std::map<std::string, std::vector<std::string>> members;
  const v1::ObjectList ports = list_objects(session, v1::OBJECT_KIND_VM_PORT);
  for (const v1::Object& obj : ports.objects()) {
    if (!obj.has_vm_port()) continue;
    for (const std::string& g : obj.vm_port().security_group_ids()) {
      members[g].push_back(obj.vm_port().id());
    }
  }
  return members;
}

}  // namespace

int run_secgroup_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--tenant", true}, {"--replace", false}}, {"ID"}, 1);
  v1::Object obj;
  v1::SecurityGroup& group = *obj.mutable_security_group();
  group.set_id(args.positional[0]);
  group.set_tenant_id(args.value("--tenant").value_or(""));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_secgroup_rule_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--protocol", true},
                                      {"--ports", true},
                                      {"--remote-ip", true},
                                      {"--remote-group", true},
                                      {"--icmp-type", true},
                                      {"--icmp-code", true},
                                      {"--ethertype", true},
                                      {"--replace", false}},
                                     {"GROUP", "RULE_ID", "ingress|egress"}, 3);
  v1::SecurityGroupRule rule;
  rule.set_id(args.positional[1]);
  if (rule.id().empty()) {
    throw UsageError(inv.name + ": RULE_ID may not be empty", "dvrctl " + inv.name);
  }
  rule.set_direction(parse_direction(inv, args.positional[2]));
  rule.set_ethertype(ethertype_option(args, inv));
  rule.set_protocol(nonempty_option(args, inv, "--protocol").value_or(""));
  if (const auto r = port_range_option(args, inv, "--ports")) *rule.mutable_ports() = *r;
  if (args.has("--remote-ip") && args.has("--remote-group")) {
    throw UsageError(inv.name + ": give --remote-ip or --remote-group, not both",
                     "dvrctl " + inv.name);
  }
  rule.set_remote_ip_prefix(nonempty_option(args, inv, "--remote-ip").value_or(""));
  rule.set_remote_group_id(nonempty_option(args, inv, "--remote-group").value_or(""));
  if (const auto t = byte_option(args, inv, "--icmp-type")) rule.set_icmp_type(*t);
  if (const auto c = byte_option(args, inv, "--icmp-code")) rule.set_icmp_code(*c);

  v1::Object obj = fetch_group(session, args.positional[0]);
  v1::SecurityGroup& group = *obj.mutable_security_group();
  const int existing = find_rule(group, rule.id());
  if (existing < 0) {
    *group.add_rules() = std::move(rule);
  } else if (args.has("--replace") || MessageDifferencer::Equals(group.rules(existing), rule)) {
    *group.mutable_rules(existing) = std::move(rule);
  } else {
    throw RequestFailed(v1::STATUS_ALREADY_EXISTS,
                        group_what(group.id()) + " already has a different rule '" + rule.id() +
                            "'; give --replace to overwrite it");
  }
  return upsert_object(session, std::move(obj), true);
}

int run_secgroup_rule_remove(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"GROUP", "RULE_ID"}, 2);
  v1::Object obj = fetch_group(session, args.positional[0]);
  v1::SecurityGroup& group = *obj.mutable_security_group();
  const int existing = find_rule(group, args.positional[1]);
  if (existing < 0) {
    throw RequestFailed(v1::STATUS_NOT_FOUND,
                        group_what(group.id()) + " has no rule '" + args.positional[1] + "'");
  }
  group.mutable_rules()->DeleteSubrange(existing, 1);
  return upsert_object(session, std::move(obj), true);
}

int run_secgroup_show(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"ID"}, 1);
  const std::string& id = args.positional[0];
  // Everything is fetched before anything is printed, so that a failed request prints no
  // partial output.
  v1::Object obj;
  std::map<std::string, std::vector<std::string>> members;
  if (!session.json()) {
    obj = fetch_group(session, id);
    members = members_by_group(session);
  }
  v1::Request req;
  req.mutable_filter_counters()->set_kind(v1::OBJECT_KIND_SECURITY_GROUP);
  req.mutable_filter_counters()->set_id(id);
  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.filter_counters(), out);
    return 0;
  }
  std::map<std::string, uint64_t> hits;
  for (const v1::RuleHits& h : resp.filter_counters().rules()) hits[h.rule()] += h.packets();

  const v1::SecurityGroup& group = obj.security_group();
  std::string ports;
  for (const std::string& p : members[id]) {
    if (!ports.empty()) ports += ',';
    ports += p;
  }
  const auto text = [](const std::string& s) { return s.empty() ? "-" : printable(s); };
  out << "security group:  " << text(group.id()) << "\n"
      << "tenant:          " << text(group.tenant_id()) << "\n"
      << "VM ports:        " << text(ports) << "\n"
      << "\n";

  std::vector<const v1::SecurityGroupRule*> rules;
  for (const v1::SecurityGroupRule& r : group.rules()) rules.push_back(&r);
  std::stable_sort(rules.begin(), rules.end(),
                   [](const v1::SecurityGroupRule* a, const v1::SecurityGroupRule* b) {
                     return a->direction() < b->direction();
                   });
  Table table({{"DIRECTION"},
               {"RULE"},
               {"ETHERTYPE"},
               {"PROTOCOL"},
               {"PORTS"},
               {"REMOTE"},
               {"ICMP"},
               {"HITS", Align::kRight}});
  for (const v1::SecurityGroupRule* r : rules) {
    const auto h = hits.find(r->id());
    table.add_row(
        {direction_name(r->direction()), r->id(), r->ethertype().empty() ? "IPv4" : r->ethertype(),
         protocol_text(r->protocol()), port_range_text(r->ports()), remote_text(*r),
         icmp_text(r->has_icmp_type(), r->icmp_type(), r->has_icmp_code(), r->icmp_code()),
         std::to_string(h == hits.end() ? 0 : h->second)});
  }
  table.print(out);
  return 0;
}

int run_secgroup_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  const v1::ObjectList groups = list_objects(session, v1::OBJECT_KIND_SECURITY_GROUP);
  if (session.json()) {
    print_json(groups, session.out());
    return 0;
  }
  const auto members = members_by_group(session);
  Table table({{"ID"}, {"TENANT"}, {"RULES", Align::kRight}, {"PORTS", Align::kRight}});
  print_objects(session, groups, std::move(table),
                [&](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_security_group()) return {};
                  const v1::SecurityGroup& g = obj.security_group();
                  const auto m = members.find(g.id());
                  return {g.id(), g.tenant_id(), std::to_string(g.rules_size()),
                          std::to_string(m == members.end() ? 0 : m->second.size())};
                });
  return 0;
}

int run_secgroup_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_SECURITY_GROUP, true);
}

}  // namespace dvrctl
