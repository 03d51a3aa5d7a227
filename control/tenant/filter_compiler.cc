#include "filter_compiler.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <vector>

#include "filter_rules.h"
#include "ip_protocol.h"

namespace dvr {

namespace v1 = api::v1;

namespace {

using Clock = std::chrono::steady_clock;

ModelError build_error(const std::string& what, const std::string& why) {
  return {v1::STATUS_RESOURCE_EXHAUSTED, "cannot compile " + what + ": " + why};
}

dp::ClassifierRule base_rule(int protocol) {
  dp::ClassifierRule r;
  r.any_protocol = protocol == kAnyProtocol;
  r.protocol = r.any_protocol ? 0 : static_cast<uint8_t>(protocol);
  return r;
}

void set_icmp(dp::ClassifierRule& r, const IcmpMatch& icmp) {
  const PortMatch range = icmp.as_port_range();
  r.src_port_min = range.min;
  r.src_port_max = range.max;
}

// Text that identifies a classifier rule exactly (for the policy fingerprint).
void append_rule(std::string& out, const dp::ClassifierRule& r) {
  out += std::to_string(r.any_protocol ? -1 : r.protocol) + ',' + std::to_string(r.src_addr) + '/' +
         std::to_string(r.src_depth) + ',' + std::to_string(r.dst_addr) + '/' +
         std::to_string(r.dst_depth) + ',' + std::to_string(r.src_port_min) + '-' +
         std::to_string(r.src_port_max) + ',' + std::to_string(r.dst_port_min) + '-' +
         std::to_string(r.dst_port_max) + ',' + std::to_string(r.priority) + ',' +
         std::to_string(r.userdata) + ';';
}

}  // namespace

std::unique_ptr<dp::Classifier> FilterCompiler::build_classifier(
    const std::vector<dp::ClassifierRule>& rules, std::string* why) {
  const auto start = Clock::now();
  auto c = dp::Classifier::build(rules, why);
  last_build_ms_ += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return c;
}

std::optional<ModelError> FilterCompiler::compile_acl(const v1::NetworkAcl& acl, CompiledAcl& out) {
  std::vector<AclRuleSpec> specs;
  if (auto e = parse_network_acl(acl, &specs)) return ModelError{v1::STATUS_INVALID_ARGUMENT, *e};
  for (const bool ingress : {true, false}) {
    std::vector<dp::ClassifierRule> rules;
    std::vector<uint8_t> allow;
    std::vector<uint32_t> numbers;
    for (const AclRuleSpec& s : specs) {
      if (s.ingress != ingress) continue;
      dp::ClassifierRule r = base_rule(s.protocol);
      r.src_addr = s.source.addr;
      r.src_depth = s.source.depth;
      r.dst_addr = s.destination.addr;
      r.dst_depth = s.destination.depth;
      r.src_port_min = s.source_ports.min;
      r.src_port_max = s.source_ports.max;
      r.dst_port_min = s.destination_ports.min;
      r.dst_port_max = s.destination_ports.max;
      if (s.protocol == kProtoIcmp) set_icmp(r, s.icmp);
      // The lowest number wins: it gets the highest priority.
      r.priority = dp::Classifier::kMaxPriority - static_cast<int32_t>(s.number);
      r.userdata = static_cast<uint32_t>(rules.size() + 1);
      rules.push_back(r);
      allow.push_back(s.allow ? 1 : 0);
      numbers.push_back(s.number);
    }
    std::string why;
    auto classifier = build_classifier(rules, &why);
    if (!classifier) {
      return build_error(
          "network ACL '" + acl.id() + "' (" + (ingress ? "ingress" : "egress") + ")", why);
    }
    auto table = std::make_shared<dp::AclTable>(workers_, static_cast<uint32_t>(rules.size()));
    table->classifier = std::move(classifier);
    table->allow = std::move(allow);
    table->numbers = std::move(numbers);
    const v1::AclAction def = ingress ? acl.default_ingress() : acl.default_egress();
    table->default_allow = def == v1::ACL_ACTION_ALLOW;  // unspecified means deny
    (ingress ? out.ingress : out.egress) = std::move(table);
  }
  return std::nullopt;
}

std::optional<ModelError> FilterCompiler::compile_policy(const TenantModel& model,
                                                         const v1::VmPort& port, bool ingress,
                                                         std::string& fingerprint,
                                                         std::shared_ptr<const dp::SgPolicy>& out) {
  // The union of the port's groups' rules for this direction, remote groups expanded to their
  // members' fixed IPs.
  std::vector<dp::ClassifierRule> rules;
  std::vector<dp::SgPolicy::RuleRef> refs;
  for (const std::string& gid : port.security_group_ids()) {
    const v1::SecurityGroup& group = model.security_groups().at(gid);
    std::vector<SgRuleSpec> specs;
    if (auto e = parse_security_group(group, &specs)) {
      return ModelError{v1::STATUS_INVALID_ARGUMENT, *e};
    }
    for (const SgRuleSpec& s : specs) {
      if (s.ingress != ingress || s.ipv6) continue;
      std::vector<Ipv4Prefix> remotes;
      if (s.remote_group_id.empty()) {
        remotes.push_back(s.remote_prefix);
      } else {
        for (const auto& [pid, p] : model.vm_ports()) {
          const auto& g = p.security_group_ids();
          if (std::find(g.begin(), g.end(), s.remote_group_id) == g.end()) continue;
          for (const auto& ip : p.fixed_ips()) remotes.push_back({*parse_ipv4(ip), 32});
        }
      }
      refs.push_back({gid, s.id});
      for (const Ipv4Prefix& remote : remotes) {
        dp::ClassifierRule r = base_rule(s.protocol);
        // The remote end is the source of ingress traffic and the destination of egress traffic.
        (ingress ? r.src_addr : r.dst_addr) = remote.addr;
        (ingress ? r.src_depth : r.dst_depth) = remote.depth;
        r.dst_port_min = s.ports.min;
        r.dst_port_max = s.ports.max;
        if (s.protocol == kProtoIcmp) set_icmp(r, s.icmp);
        // All rules allow; the first in order gets the hit (for the counters).
        r.priority = dp::Classifier::kMaxPriority - static_cast<int32_t>(refs.size());
        r.userdata = static_cast<uint32_t>(refs.size());
        rules.push_back(r);
      }
    }
  }
  fingerprint = ingress ? "in:" : "out:";
  for (const auto& ref : refs) fingerprint += ref.group + '/' + ref.rule + ';';
  for (const auto& r : rules) append_rule(fingerprint, r);
  if (auto it = policies_.find(fingerprint); it != policies_.end()) {
    out = it->second;
    return std::nullopt;
  }
  std::string why;
  auto classifier = build_classifier(rules, &why);
  if (!classifier) {
    return build_error(std::string("the security groups of VM port '") + port.id() + "' (" +
                           (ingress ? "ingress" : "egress") + ")",
                       why);
  }
  auto policy = std::make_shared<dp::SgPolicy>(workers_, static_cast<uint32_t>(refs.size()));
  policy->id = next_policy_id_++;
  if (next_policy_id_ == 0) next_policy_id_ = 1;
  policy->ingress = ingress;
  policy->classifier = std::move(classifier);
  policy->rules = std::move(refs);
  out = policy;
  policies_[fingerprint] = policy;  // shared with later ports with the same rules
  return std::nullopt;
}

std::optional<ModelError> FilterCompiler::compile(const TenantModel& model) {
  const auto start = Clock::now();
  last_build_ms_ = 0;
  std::map<std::string, CompiledAcl> acls;
  for (const auto& [id, acl] : model.network_acls()) {
    std::string bytes = acl.SerializeAsString();
    auto old = acls_.find(id);
    if (old != acls_.end() && old->second.source == bytes) {
      acls[id] = old->second;
      continue;
    }
    CompiledAcl c;
    if (auto e = compile_acl(acl, c)) return e;
    c.source = std::move(bytes);
    acls[id] = std::move(c);
  }

  // Policies: reuse by content (fingerprint). policies_ is extended while compiling and pruned
  // to what is in use at the end.
  std::map<std::string, CompiledPolicy> port_policies;
  std::set<std::string> used;
  const auto saved_policies = policies_;
  const uint32_t saved_next_id = next_policy_id_;
  for (const auto& [id, port] : model.vm_ports()) {
    if (!port.port_security_enabled() || port.security_group_ids().empty()) continue;
    CompiledPolicy cp;
    for (const bool ingress : {true, false}) {
      std::string fp;
      auto e = compile_policy(model, port, ingress, fp, ingress ? cp.ingress : cp.egress);
      if (e) {
        policies_ = saved_policies;
        next_policy_id_ = saved_next_id;
        return e;
      }
      used.insert(fp);
    }
    port_policies[id] = std::move(cp);
  }
  std::erase_if(policies_, [&](const auto& kv) { return !used.contains(kv.first); });
  acls_ = std::move(acls);
  port_policies_ = std::move(port_policies);
  last_compile_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return std::nullopt;
}

void FilterCompiler::attach_network(const v1::Network& net, dp::NetworkState& ns,
                                    dp::L3State& st) const {
  if (net.network_acl_id().empty()) return;
  auto it = acls_.find(net.network_acl_id());
  if (it == acls_.end()) return;
  ns.acl_ingress = it->second.ingress.get();
  ns.acl_egress = it->second.egress.get();
  st.acl_tables.push_back(it->second.ingress);
  st.acl_tables.push_back(it->second.egress);
}

void FilterCompiler::attach_port(const v1::VmPort& port, dp::PortBinding& b,
                                 dp::L3State& st) const {
  auto it = port_policies_.find(port.id());
  if (it == port_policies_.end()) return;
  b.sg_ingress = it->second.ingress.get();
  b.sg_egress = it->second.egress.get();
  st.sg_policies.push_back(it->second.ingress);
  st.sg_policies.push_back(it->second.egress);
}

std::optional<v1::FilterCounters> FilterCompiler::counters(v1::ObjectKind kind,
                                                           const std::string& id) const {
  v1::FilterCounters out;
  out.set_kind(kind);
  out.set_id(id);
  if (kind == v1::OBJECT_KIND_NETWORK_ACL) {
    auto it = acls_.find(id);
    if (it == acls_.end()) return std::nullopt;
    for (const bool ingress : {true, false}) {
      const dp::AclTable& t = ingress ? *it->second.ingress : *it->second.egress;
      for (uint32_t r = 0; r < t.numbers.size(); ++r) {
        v1::RuleHits* h = out.add_rules();
        h->set_rule(std::to_string(t.numbers[r]));
        h->set_direction(ingress ? v1::DIRECTION_INGRESS : v1::DIRECTION_EGRESS);
        h->set_packets(t.hits.total(r));
      }
      const uint64_t def = t.hits.total(t.default_slot());
      ingress ? out.set_default_ingress_packets(def) : out.set_default_egress_packets(def);
    }
    return out;
  }
  if (kind == v1::OBJECT_KIND_SECURITY_GROUP) {
    // A rule's hits are summed over every policy (port group set) it is part of.
    std::map<std::pair<std::string, bool>, uint64_t> hits;
    for (const auto& [fp, policy] : policies_) {
      for (uint32_t r = 0; r < policy->rules.size(); ++r) {
        if (policy->rules[r].group != id) continue;
        hits[{policy->rules[r].rule, policy->ingress}] += policy->hits.total(r);
      }
    }
    for (const auto& [key, n] : hits) {
      v1::RuleHits* h = out.add_rules();
      h->set_rule(key.first);
      h->set_direction(key.second ? v1::DIRECTION_INGRESS : v1::DIRECTION_EGRESS);
      h->set_packets(n);
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace dvr
