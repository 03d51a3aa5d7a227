// The control API's tenant requests: upsert, delete, list, route and neighbor tables, host
// identity. Each change is applied to the model and then to the workers; if the workers' state
// cannot be built (a limit), the model change is rolled back.
#pragma once

#include "dvr.pb.h"
#include "external/external_resolver.h"
#include "tenant_forwarding.h"
#include "tenant_model.h"
#include "underlay/underlay_resolver.h"

namespace dvr {

class TenantApi {
 public:
  explicit TenantApi(dp::Dataplane& dp) : dp_(dp), forwarding_(dp), underlay_(dp), external_(dp) {}

  api::v1::Response upsert(const api::v1::UpsertRequest& req);
  api::v1::Response remove(const api::v1::DeleteRequest& req);
  api::v1::Response list(const api::v1::ListRequest& req) const;
  api::v1::Response route_table(const api::v1::RouteTableRequest& req) const;
  api::v1::Response neighbor_table(const api::v1::NeighborTableRequest& req) const;
  api::v1::Response host_set(const api::v1::HostSetRequest& req);
  api::v1::Response filter_counters(const api::v1::FilterCountersRequest& req) const;
  api::v1::Response underlay(const api::v1::UnderlayRequest& req) const;
  api::v1::Response snat_sessions(const api::v1::SnatSessionsRequest& req) const;
  api::v1::Response external(const api::v1::ExternalRequest& req) const;
  // The control thread's periodic work for the tenant state: punted frames (underlay and
  // external ARP, external next hops to resolve), ARP timers, and the SNAT sessions' sweep.
  void on_punt(const dp::PuntItem& item);
  void tick();
  void fill_router_stats(api::v1::Stats& stats) const;
  void fill_snat_stats(api::v1::Stats& stats) const;

  // Ports come and go: re-bind VM ports. `leaving` is a port about to be removed.
  void ports_changed(const std::string& leaving = {});

  const TenantModel& model() const { return model_; }

 private:
  api::v1::Response commit(TenantModel previous);

  dp::Dataplane& dp_;
  TenantModel model_;
  TenantForwarding forwarding_;
  UnderlayResolver underlay_;
  ExternalResolver external_;
};

}  // namespace dvr
