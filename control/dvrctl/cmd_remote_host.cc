#include "cmd_remote_host.h"

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

int run_remote_host_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(
      inv, {{"--tunnel-ip", true}, {"--dvr-mac", true}, {"--replace", false}}, {"HOST"}, 1);
  v1::Object obj;
  v1::RemoteHost& host = *obj.mutable_remote_host();
  host.set_host_id(args.positional[0]);
  host.set_tunnel_ip(required_option(args, inv, "--tunnel-ip"));
  host.set_dvr_mac(required_option(args, inv, "--dvr-mac"));
  return upsert_object(session, std::move(obj), args.has("--replace"));
}

int run_remote_host_remove(Session& session, const Invocation& inv) {
  return delete_object(session, inv, v1::OBJECT_KIND_REMOTE_HOST, true, "HOST");
}

int run_remote_host_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  Table table({{"HOST"}, {"TUNNEL-IP"}, {"DVR-MAC"}});
  print_objects(session, list_objects(session, v1::OBJECT_KIND_REMOTE_HOST), std::move(table),
                [](const v1::Object& obj) -> std::vector<std::string> {
                  if (!obj.has_remote_host()) return {};
                  const v1::RemoteHost& h = obj.remote_host();
                  return {h.host_id(), h.tunnel_ip(), h.dvr_mac()};
                });
  return 0;
}

}  // namespace dvrctl
