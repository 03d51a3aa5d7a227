#include "cmd_router.h"

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "errors.h"
#include "format.h"
#include "json_output.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

std::string distributed_text(const v1::Router& r) {
  return r.has_distributed() ? yes_no(r.distributed()) : "default";
}

// A table of the routers' interfaces, in the routers' order, with their subnets' CIDR and
// gateway; empty when there are none. Everything is fetched before anything is printed, so that
// a failed request prints no partial output.
Table interface_table(Session& session, const v1::ObjectList& routers) {
  Table table({{"ROUTER"}, {"INTERFACE"}, {"SUBNET"}, {"CIDR"}, {"GATEWAY-IP"}, {"GATEWAY-MAC"}});
  const v1::ObjectList interfaces = list_objects(session, v1::OBJECT_KIND_ROUTER_INTERFACE);
  std::map<std::string, std::vector<const v1::RouterInterface*>> by_router;
  for (const v1::Object& obj : interfaces.objects()) {
    if (obj.has_router_interface()) {
      by_router[obj.router_interface().router_id()].push_back(&obj.router_interface());
    }
  }
  if (by_router.empty()) return table;

  const v1::ObjectList subnet_list = list_objects(session, v1::OBJECT_KIND_SUBNET);
  std::map<std::string, const v1::Subnet*> subnets;
  for (const v1::Object& obj : subnet_list.objects()) {
    if (obj.has_subnet()) subnets[obj.subnet().id()] = &obj.subnet();
  }

  const auto add_rows = [&](const std::vector<const v1::RouterInterface*>& ifaces) {
    for (const v1::RouterInterface* i : ifaces) {
      const auto s = subnets.find(i->subnet_id());
      const bool known = s != subnets.end();
      table.add_row({i->router_id(), i->id(), i->subnet_id(), known ? s->second->cidr() : "",
                     known ? s->second->gateway_ip() : "", i->gateway_mac()});
    }
  };
  for (const v1::Object& obj : routers.objects()) {
    if (!obj.has_router()) continue;
    const auto it = by_router.find(obj.router().id());
    if (it == by_router.end()) continue;
    add_rows(it->second);
    by_router.erase(it);
  }
  // Interfaces of routers dvrd did not list (it should not have any): still show them.
  for (const auto& entry : by_router) add_rows(entry.second);
  return table;
}

}  // namespace

int run_router_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--tenant", true},
                                      {"--name", true},
                                      {"--admin-down", false},
                                      {"--distributed", true},
                                      {"--external-network", true},
                                      {"--external-gateway-ip", true},
                                      {"--snat", false},
                                      {"--no-snat", false},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  const std::string help_for = "dvrctl " + inv.name;
  if (args.has("--snat") && args.has("--no-snat")) {
    throw UsageError(inv.name + ": give --snat or --no-snat, not both", help_for);
  }
  if (!args.has("--external-network")) {
    for (const char* option : {"--external-gateway-ip", "--snat", "--no-snat"}) {
      if (args.has(option)) {
        throw UsageError(inv.name + ": " + option + " needs --external-network", help_for);
      }
    }
  }
  v1::Object obj;
  v1::Router& router = *obj.mutable_router();
  router.set_id(args.positional[0]);
  router.set_tenant_id(args.value("--tenant").value_or(""));
  router.set_name(args.value("--name").value_or(""));
  router.set_admin_state_up(!args.has("--admin-down"));
  if (const auto distributed = bool_option(args, inv, "--distributed")) {
    router.set_distributed(*distributed);
  }
  if (args.has("--external-network")) {
    router.set_external_network_id(required_option(args, inv, "--external-network"));
    if (args.has("--external-gateway-ip")) {
      router.set_external_gateway_ip(required_option(args, inv, "--external-gateway-ip"));
    }
    router.set_enable_snat(!args.has("--no-snat"));
  }
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_router_set_admin(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"ID", "up|down"}, 2);
  const std::string& id = args.positional[0];
  const std::string& state = args.positional[1];
  if (state != "up" && state != "down") {
    throw UsageError(inv.name + ": '" + state + "' is neither up nor down", "dvrctl " + inv.name);
  }
  v1::ObjectList routers = list_objects(session, v1::OBJECT_KIND_ROUTER);
  for (v1::Object& obj : *routers.mutable_objects()) {
    if (!obj.has_router() || obj.router().id() != id) continue;
    obj.mutable_router()->set_admin_state_up(state == "up");
    return upsert_object(session, std::move(obj), true);
  }
  throw RequestFailed(v1::STATUS_NOT_FOUND, "no router '" + id + "'");
}

int run_router_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_ROUTER, true);
}

int run_router_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  const v1::ObjectList routers = list_objects(session, v1::OBJECT_KIND_ROUTER);
  if (session.json()) {
    print_json(routers, session.out());
    return 0;
  }
  const Table interfaces = interface_table(session, routers);
  Table table({{"ID"},
               {"TENANT"},
               {"NAME"},
               {"ADMIN"},
               {"DISTRIBUTED"},
               {"EXT-NETWORK"},
               {"EXT-GATEWAY-IP"},
               {"SNAT"}});
  print_objects(session, routers, std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_router()) return {};
                  const v1::Router& r = obj.router();
                  // SNAT means nothing without an external network: "-" then.
                  const bool external = !r.external_network_id().empty();
                  return {r.id(),
                          r.tenant_id(),
                          r.name(),
                          r.admin_state_up() ? "up" : "down",
                          distributed_text(r),
                          r.external_network_id(),
                          r.external_gateway_ip(),
                          external ? yes_no(r.enable_snat()) : ""};
                });
  if (!interfaces.empty()) {
    session.out() << '\n';
    interfaces.print(session.out());
  }
  return 0;
}

}  // namespace dvrctl
