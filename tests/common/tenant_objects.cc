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

}  // namespace dvr::test
