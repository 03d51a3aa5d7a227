#include "cmd_subnet.h"

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

int run_subnet_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(
      inv, {{"--network", true}, {"--cidr", true}, {"--gateway", true}, {"--replace", false}},
      {"ID"}, 1);
  v1::Object obj;
  v1::Subnet& subnet = *obj.mutable_subnet();
  subnet.set_id(args.positional[0]);
  subnet.set_network_id(required_option(args, inv, "--network"));
  subnet.set_cidr(required_option(args, inv, "--cidr"));
  subnet.set_gateway_ip(args.value("--gateway").value_or(""));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_subnet_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_SUBNET, true);
}

int run_subnet_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"ID"}, {"NETWORK"}, {"CIDR"}, {"GATEWAY"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_SUBNET), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_subnet()) return {};
                  const v1::Subnet& s = obj.subnet();
                  return {s.id(), s.network_id(), s.cidr(), s.gateway_ip()};
                });
  return 0;
}

}  // namespace dvrctl
