// Tenant objects as a management-plane agent sends them, for tests and benchmarks that drive
// TenantApi directly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dvr.pb.h"
#include "net_addr.h"

namespace dvr::test {

api::v1::Object router(const std::string& id);
api::v1::Object network(const std::string& id, uint32_t segmentation_id);
api::v1::Object subnet(const std::string& id, const std::string& network, const std::string& cidr);
api::v1::Object interface(const std::string& id, const std::string& router,
                          const std::string& subnet, const std::string& gateway_mac);
// One fixed IP, port security on, bound to `dataplane_port` ("" for a VM on another host).
api::v1::Object vm_port(const std::string& id, const std::string& network, const std::string& mac,
                        const std::string& ip, const std::string& dataplane_port,
                        const std::string& host = {});
api::v1::Object static_route(const std::string& id, const std::string& router,
                             const std::string& destination, const std::string& nexthop);
api::v1::Object static_route(const std::string& id, const std::string& router,
                             const Ipv4Prefix& destination, const std::string& nexthop);

// Network ACLs and security groups.
api::v1::Object network(const std::string& id, uint32_t segmentation_id,
                        const std::string& network_acl_id);
// A rule matching `protocol` ("any", "tcp", "udp", "icmp" or a number) and nothing else; the
// caller sets CIDRs, ports and ICMP type/code on the result.
api::v1::AclRule acl_rule(uint32_t number, api::v1::Direction direction, api::v1::AclAction action,
                          const std::string& protocol = "any");
api::v1::Object network_acl(const std::string& id, const std::vector<api::v1::AclRule>& rules,
                            api::v1::AclAction default_ingress, api::v1::AclAction default_egress);
// An allow rule; ports 0-0 means any, empty remote means any.
api::v1::SecurityGroupRule sg_rule(const std::string& id, api::v1::Direction direction,
                                   const std::string& protocol = "any", uint32_t port_min = 0,
                                   uint32_t port_max = 0, const std::string& remote_ip_prefix = {},
                                   const std::string& remote_group_id = {});
api::v1::Object security_group(const std::string& id,
                               const std::vector<api::v1::SecurityGroupRule>& rules);
// vm_port() with security groups, and port security as given.
api::v1::Object vm_port_with_groups(const std::string& id, const std::string& network,
                                    const std::string& mac, const std::string& ip,
                                    const std::string& dataplane_port,
                                    const std::vector<std::string>& security_groups,
                                    bool port_security = true);

}  // namespace dvr::test
