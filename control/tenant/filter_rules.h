// Network ACL and security-group rules, parsed and checked. The tenant model uses this to refuse
// bad rules with a clear message; the filter compiler uses the parsed form to build classifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dvr.pb.h"
#include "net_addr.h"

namespace dvr {

inline constexpr uint32_t kMaxAclRuleNumber = 32766;  // as AWS network ACLs
inline constexpr size_t kMaxAclRules = 20000;         // per ACL, both directions together
inline constexpr size_t kMaxSecurityGroupRules = 5000;

struct PortMatch {
  uint16_t min = 0, max = UINT16_MAX;
};

// ICMP type/code as the classifier's "source port" range (type << 8 | code).
struct IcmpMatch {
  std::optional<uint8_t> type, code;
  PortMatch as_port_range() const;
};

struct AclRuleSpec {
  uint32_t number = 0;
  bool ingress = false;
  bool allow = false;
  int protocol = -1;  // kAnyProtocol
  Ipv4Prefix source, destination;
  PortMatch source_ports, destination_ports;
  IcmpMatch icmp;
};

struct SgRuleSpec {
  std::string id;
  bool ingress = false;
  bool ipv6 = false;  // stored, never enforced (dvrd forwards no IPv6)
  int protocol = -1;
  PortMatch ports;  // destination ports
  IcmpMatch icmp;
  Ipv4Prefix remote_prefix;     // /0 when any
  std::string remote_group_id;  // when set, remote_prefix is unused
};

// Parse and check every rule; the error names the object and the rule.
std::optional<std::string> parse_network_acl(const api::v1::NetworkAcl& acl,
                                             std::vector<AclRuleSpec>* rules);
std::optional<std::string> parse_security_group(const api::v1::SecurityGroup& group,
                                                std::vector<SgRuleSpec>* rules);

}  // namespace dvr
