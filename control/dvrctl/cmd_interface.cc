#include "cmd_interface.h"

#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

int run_interface_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(
      inv, {{"--router", true}, {"--subnet", true}, {"--mac", true}, {"--replace", false}}, {"ID"},
      1);
  v1::Object obj;
  v1::RouterInterface& iface = *obj.mutable_router_interface();
  iface.set_id(args.positional[0]);
  iface.set_router_id(required_option(args, inv, "--router"));
  iface.set_subnet_id(required_option(args, inv, "--subnet"));
  iface.set_gateway_mac(required_option(args, inv, "--mac"));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_interface_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_ROUTER_INTERFACE, true);
}

int run_interface_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"ID"}, {"ROUTER"}, {"SUBNET"}, {"GATEWAY-MAC"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_ROUTER_INTERFACE), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_router_interface()) return {};
                  const v1::RouterInterface& i = obj.router_interface();
                  return {i.id(), i.router_id(), i.subnet_id(), i.gateway_mac()};
                });
  return 0;
}

}  // namespace dvrctl
