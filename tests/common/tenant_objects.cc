#include "tenant_objects.h"

namespace dvr::test {

namespace v1 = api::v1;

v1::Object router(const std::string& id) {
  v1::Object o;
  o.mutable_router()->set_id(id);
  o.mutable_router()->set_admin_state_up(true);
  return o;
}

v1::Object network(const std::string& id, uint32_t segmentation_id) {
  v1::Object o;
  o.mutable_network()->set_id(id);
  o.mutable_network()->set_segmentation_id(segmentation_id);
  return o;
}

v1::Object subnet(const std::string& id, const std::string& network, const std::string& cidr) {
  v1::Object o;
  o.mutable_subnet()->set_id(id);
  o.mutable_subnet()->set_network_id(network);
  o.mutable_subnet()->set_cidr(cidr);
  return o;
}

v1::Object interface(const std::string& id, const std::string& router, const std::string& subnet,
                     const std::string& gateway_mac) {
  v1::Object o;
  o.mutable_router_interface()->set_id(id);
  o.mutable_router_interface()->set_router_id(router);
  o.mutable_router_interface()->set_subnet_id(subnet);
  o.mutable_router_interface()->set_gateway_mac(gateway_mac);
  return o;
}

v1::Object vm_port(const std::string& id, const std::string& network, const std::string& mac,
                   const std::string& ip, const std::string& dataplane_port,
                   const std::string& host) {
  v1::Object o;
  v1::VmPort* p = o.mutable_vm_port();
  p->set_id(id);
  p->set_network_id(network);
  p->set_mac(mac);
  p->add_fixed_ips(ip);
  p->set_port_security_enabled(true);
  p->set_dataplane_port(dataplane_port);
  p->set_host_id(host);
  return o;
}

v1::Object static_route(const std::string& id, const std::string& router,
                        const std::string& destination, const std::string& nexthop) {
  v1::Object o;
  o.mutable_static_route()->set_id(id);
  o.mutable_static_route()->set_router_id(router);
  o.mutable_static_route()->set_destination(destination);
  o.mutable_static_route()->set_nexthop(nexthop);
  return o;
}

v1::Object static_route(const std::string& id, const std::string& router,
                        const Ipv4Prefix& destination, const std::string& nexthop) {
  return static_route(id, router, format_prefix(destination), nexthop);
}

v1::Object network(const std::string& id, uint32_t segmentation_id,
                   const std::string& network_acl_id) {
  v1::Object o = network(id, segmentation_id);
  o.mutable_network()->set_network_acl_id(network_acl_id);
  return o;
}

v1::AclRule acl_rule(uint32_t number, v1::Direction direction, v1::AclAction action,
                     const std::string& protocol) {
  v1::AclRule r;
  r.set_number(number);
  r.set_direction(direction);
  r.set_action(action);
  r.set_protocol(protocol);
  return r;
}

v1::Object network_acl(const std::string& id, const std::vector<v1::AclRule>& rules,
                       v1::AclAction default_ingress, v1::AclAction default_egress) {
  v1::Object o;
  v1::NetworkAcl* acl = o.mutable_network_acl();
  acl->set_id(id);
  for (const auto& r : rules) *acl->add_rules() = r;
  acl->set_default_ingress(default_ingress);
  acl->set_default_egress(default_egress);
  return o;
}

v1::SecurityGroupRule sg_rule(const std::string& id, v1::Direction direction,
                              const std::string& protocol, uint32_t port_min, uint32_t port_max,
                              const std::string& remote_ip_prefix,
                              const std::string& remote_group_id) {
  v1::SecurityGroupRule r;
  r.set_id(id);
  r.set_direction(direction);
  r.set_ethertype("IPv4");
  r.set_protocol(protocol);
  if (port_min != 0 || port_max != 0) {
    r.mutable_ports()->set_min(port_min);
    r.mutable_ports()->set_max(port_max);
  }
  r.set_remote_ip_prefix(remote_ip_prefix);
  r.set_remote_group_id(remote_group_id);
  return r;
}

v1::Object security_group(const std::string& id, const std::vector<v1::SecurityGroupRule>& rules) {
  v1::Object o;
  o.mutable_security_group()->set_id(id);
  for (const auto& r : rules) *o.mutable_security_group()->add_rules() = r;
  return o;
}

v1::Object vm_port_with_groups(const std::string& id, const std::string& network,
                               const std::string& mac, const std::string& ip,
                               const std::string& dataplane_port,
                               const std::vector<std::string>& security_groups,
                               bool port_security) {
  v1::Object o = vm_port(id, network, mac, ip, dataplane_port);
  for (const auto& g : security_groups) o.mutable_vm_port()->add_security_group_ids(g);
  o.mutable_vm_port()->set_port_security_enabled(port_security);
  return o;
}

}  // namespace dvr::test
