// The tenant model: routers, networks, subnets, router interfaces, VM ports, static routes,
// network ACLs and security groups as the management plane described them, with every invariant
// checked. Control thread only.
//
// Changes are transactional: an upsert of several objects, or a delete (with its cascade),
// either applies completely or leaves the model untouched, and says why in one sentence.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "dvr.pb.h"

namespace dvr {

struct ModelError {
  api::v1::Status status;
  std::string message;
};

class TenantModel {
 public:
  TenantModel();

  // Creates or updates objects. Repeating an identical object succeeds; changing an existing
  // one requires `replace`.
  std::optional<ModelError> upsert(const google::protobuf::RepeatedPtrField<api::v1::Object>& objs,
                                   bool replace);
  std::optional<ModelError> remove(api::v1::ObjectKind kind, const std::string& id, bool cascade,
                                   bool missing_ok);
  std::optional<ModelError> set_host(const api::v1::HostIdentity& host);
  api::v1::ObjectList list(api::v1::ObjectKind kind) const;
  // True for the kinds this version stores (others answer UNIMPLEMENTED).
  static bool supported(api::v1::ObjectKind kind);

  const api::v1::HostIdentity& host() const { return host_; }
  // A router's `distributed` flag, or the host's default when the router left it unset.
  bool distributed(const api::v1::Router& r) const;

  const std::map<std::string, api::v1::Router>& routers() const { return routers_; }
  const std::map<std::string, api::v1::Network>& networks() const { return networks_; }
  const std::map<std::string, api::v1::Subnet>& subnets() const { return subnets_; }
  const std::map<std::string, api::v1::RouterInterface>& interfaces() const { return interfaces_; }
  const std::map<std::string, api::v1::VmPort>& vm_ports() const { return vm_ports_; }
  const std::map<std::string, api::v1::StaticRoute>& static_routes() const { return routes_; }
  const std::map<std::string, api::v1::NetworkAcl>& network_acls() const { return acls_; }
  const std::map<std::string, api::v1::SecurityGroup>& security_groups() const { return groups_; }
  // Other hosts with ports of our networks, by host id.
  const std::map<std::string, api::v1::RemoteHost>& remote_hosts() const { return remote_hosts_; }
  // The remote host a VM port lives on, or nullptr (a local port, or one nobody located).
  const api::v1::RemoteHost* remote_host_of(const api::v1::VmPort& p) const;

  // North-south (docs/north-south.md).
  const std::map<std::string, api::v1::FloatingIp>& floating_ips() const { return fips_; }
  const std::map<std::string, api::v1::FloatingIpGateway>& fip_gateways() const {
    return fip_gateways_;
  }
  // By router id.
  const std::map<std::string, api::v1::SnatBinding>& snat_bindings() const { return snat_; }
  // The host's agent mode, UNSPECIFIED resolved (DVR_SNAT when snat_node is set, else DVR).
  api::v1::AgentMode agent_mode() const;
  // True when this host routes `r`: a distributed router on every host but a legacy one; a
  // centralized router only on the host its SNAT binding names.
  bool routes_here(const api::v1::Router& r) const;
  // The host that hosts the router's SNAT (and, if centralized, the router), or "" for none.
  std::string snat_host_of(const std::string& router_id) const;
  // The router's SNAT address: the binding's, or the router's external gateway IP.
  std::string snat_ip_of(const api::v1::SnatBinding& b) const;
  // This host's floating-IP gateway on an external network, or nullptr.
  const api::v1::FloatingIpGateway* local_fip_gateway(const std::string& network_id) const;

  // The VM port bound to a dataplane port, if any.
  const api::v1::VmPort* port_bound_to(const std::string& dataplane_port) const;

 private:
  std::optional<ModelError> upsert_one(const api::v1::Object& obj, bool replace);
  std::optional<ModelError> remove_one(api::v1::ObjectKind kind, const std::string& id,
                                       bool cascade);
  std::optional<ModelError> upsert_north_south(const api::v1::Object& obj, bool replace);
  std::optional<ModelError> remove_north_south(api::v1::ObjectKind kind, const std::string& id);
  std::optional<ModelError> validate() const;
  std::optional<ModelError> validate_overlay() const;
  std::optional<ModelError> validate_north_south() const;  // north_south_rules.cc

  api::v1::HostIdentity host_;
  std::map<std::string, api::v1::Router> routers_;
  std::map<std::string, api::v1::Network> networks_;
  std::map<std::string, api::v1::Subnet> subnets_;
  std::map<std::string, api::v1::RouterInterface> interfaces_;
  std::map<std::string, api::v1::VmPort> vm_ports_;
  std::map<std::string, api::v1::StaticRoute> routes_;
  std::map<std::string, api::v1::NetworkAcl> acls_;
  std::map<std::string, api::v1::SecurityGroup> groups_;
  std::map<std::string, api::v1::RemoteHost> remote_hosts_;
  std::map<std::string, api::v1::FloatingIp> fips_;
  std::map<std::string, api::v1::FloatingIpGateway> fip_gateways_;
  std::map<std::string, api::v1::SnatBinding> snat_;
};

const char* object_kind_name(api::v1::ObjectKind kind);  // "router", "network", ...

}  // namespace dvr
