// Maps control API requests onto the dataplane (control thread only).
#pragma once

#include <string>

#include "dataplane.h"
#include "server.h"
#include "tenant/tenant_api.h"

namespace dvr {

struct HostConfig {
  std::string host_id;
  bool development_mode = false;
  bool distributed_default = true;  // Router.distributed when a router leaves it unset
};

class ApiHandler final : public RequestHandler {
 public:
  ApiHandler(dp::Dataplane& dataplane, HostConfig host);

  api::v1::Response handle(const api::v1::Request& req, ClientInfo& client) override;
  api::v1::HelloResponse hello_response() override;
  // The control thread's periodic work (every tick of its loop): the workers' punts, the
  // underlay's ARP timers.
  void tick();

 private:
  api::v1::Response port_add(const api::v1::PortAddRequest& req);
  api::v1::Response port_remove(const api::v1::PortRemoveRequest& req);
  api::v1::Response port_list();
  api::v1::Response stats(const api::v1::StatsRequest& req);

  dp::Dataplane& dp_;
  HostConfig host_;
  TenantApi tenant_;
};

// Conversions between the API's and the dataplane's port models.
std::optional<dp::PortType> port_type_from_api(api::v1::PortType t);
api::v1::PortType port_type_to_api(dp::PortType t);
void fill_port_info(const dp::PortStatus& st, api::v1::PortInfo& out);

}  // namespace dvr
