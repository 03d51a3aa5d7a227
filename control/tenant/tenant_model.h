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

  // The VM port bound to a dataplane port, if any.
  const api::v1::VmPort* port_bound_to(const std::string& dataplane_port) const;

 private:
  std::optional<ModelError> upsert_one(const api::v1::Object& obj, bool replace);
  std::optional<ModelError> remove_one(api::v1::ObjectKind kind, const std::string& id,
                                       bool cascade);
  std::optional<ModelError> validate() const;
  std::optional<ModelError> validate_overlay() const;

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
};

const char* object_kind_name(api::v1::ObjectKind kind);  // "router", "network", ...

}  // namespace dvr
