#include "cmd_fip_gateway.h"

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

int run_fip_gateway_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--network", true},
                                      {"--host", true},
                                      {"--ip", true},
                                      {"--mac", true},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  v1::Object obj;
  v1::FloatingIpGateway& gw = *obj.mutable_floating_ip_gateway();
  gw.set_id(args.positional[0]);
  gw.set_network_id(required_option(args, inv, "--network"));
  gw.set_host_id(required_option(args, inv, "--host"));
  gw.set_ip(required_option(args, inv, "--ip"));
  gw.set_mac(required_option(args, inv, "--mac"));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_fip_gateway_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_FLOATING_IP_GATEWAY, false);
}

int run_fip_gateway_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"ID"}, {"NETWORK"}, {"HOST"}, {"IP"}, {"MAC"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_FLOATING_IP_GATEWAY),
                std::move(table), [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_floating_ip_gateway()) return {};
                  const v1::FloatingIpGateway& g = obj.floating_ip_gateway();
                  return {g.id(), g.network_id(), g.host_id(), g.ip(), g.mac()};
                });
  return 0;
}

}  // namespace dvrctl
