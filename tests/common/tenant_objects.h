// Tenant objects as a management-plane agent sends them, for tests and benchmarks that drive
// TenantApi directly.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace dvr::test
