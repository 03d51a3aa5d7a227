#include "cmd_route.h"

#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "json_output.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

int run_route_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(
      inv, {{"--router", true}, {"--destination", true}, {"--nexthop", true}, {"--replace", false}},
      {"ID"}, 1);
  v1::Object obj;
  v1::StaticRoute& route = *obj.mutable_static_route();
  route.set_id(args.positional[0]);
  route.set_router_id(required_option(args, inv, "--router"));
  route.set_destination(required_option(args, inv, "--destination"));
  route.set_nexthop(required_option(args, inv, "--nexthop"));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_route_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_STATIC_ROUTE, false);
}

int run_route_list(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--router", true}}, {}, 0);
  const auto router = args.value("--router");
  if (router) required_option(args, inv, "--router");

  v1::ObjectList all = list_objects(session, v1::OBJECT_KIND_STATIC_ROUTE);
  v1::ObjectList routes;
  for (v1::Object& obj : *all.mutable_objects()) {
    if (obj.has_static_route() && (!router || obj.static_route().router_id() == *router)) {
      *routes.add_objects() = std::move(obj);
    }
  }
  Table table({{"ID"}, {"ROUTER"}, {"DESTINATION"}, {"NEXTHOP"}});
  print_objects(session, routes, std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  const v1::StaticRoute& r = obj.static_route();
                  return {r.id(), r.router_id(), r.destination(), r.nexthop()};
                });
  return 0;
}

int run_route_show(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {"ROUTER"}, 1);
  v1::Request req;
  req.mutable_route_table()->set_router_id(args.positional[0]);
  const v1::Response resp = session.call(std::move(req));
  if (session.json()) {
    print_json(resp.route_table(), session.out());
    return 0;
  }
  Table table({{"PREFIX"}, {"ORIGIN"}, {"NEXTHOP"}, {"EGRESS-SUBNET"}, {"NEXTHOP-MAC"}});
  for (const v1::RouteEntry& r : resp.route_table().routes()) {
    table.add_row({r.prefix(), r.origin(), r.nexthop(), r.egress_subnet_id(), r.nexthop_mac()});
  }
  table.print(session.out());
  return 0;
}

}  // namespace dvrctl
