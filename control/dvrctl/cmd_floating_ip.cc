#include "cmd_floating_ip.h"

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

int run_floating_ip_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--router", true},
                                      {"--floating-ip", true},
                                      {"--fixed-ip", true},
                                      {"--vm-port", true},
                                      {"--replace", false}},
                                     {"ID"}, 1);
  v1::Object obj;
  v1::FloatingIp& fip = *obj.mutable_floating_ip();
  fip.set_id(args.positional[0]);
  fip.set_router_id(required_option(args, inv, "--router"));
  fip.set_floating_ip(required_option(args, inv, "--floating-ip"));
  fip.set_fixed_ip(required_option(args, inv, "--fixed-ip"));
  fip.set_vm_port_id(required_option(args, inv, "--vm-port"));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_floating_ip_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_FLOATING_IP, false);
}

int run_floating_ip_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"ID"}, {"ROUTER"}, {"FLOATING-IP"}, {"FIXED-IP"}, {"VM-PORT"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_FLOATING_IP), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_floating_ip()) return {};
                  const v1::FloatingIp& f = obj.floating_ip();
                  return {f.id(), f.router_id(), f.floating_ip(), f.fixed_ip(), f.vm_port_id()};
                });
  return 0;
}

}  // namespace dvrctl
