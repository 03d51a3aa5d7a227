#include "cmd_host.h"

#include <utility>

#include "args.h"
#include "objects.h"
#include "option_values.h"
#include "session.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

int run_host_set(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--host-id", true},
                                      {"--dvr-mac", true},
                                      {"--tunnel-ip", true},
                                      {"--distributed-default", true},
                                      {"--snat-node", false}},
                                     {}, 0);
  // Start from dvrd's current identity, so that options left out keep their values (a host
  // update must not silently flip, say, the routers' distributed default).
  v1::Request req;
  v1::HostIdentity& host = *req.mutable_host_set()->mutable_host();
  host = session.hello().host();
  host.set_host_id(required_option(args, inv, "--host-id"));
  if (const auto mac = args.value("--dvr-mac")) host.set_dvr_mac(*mac);
  if (const auto ip = args.value("--tunnel-ip")) host.set_tunnel_ip(*ip);
  if (const auto d = bool_option(args, inv, "--distributed-default"))
    host.set_distributed_default(*d);
  if (args.has("--snat-node")) host.set_snat_node(true);
  print_bodyless_response(session, session.call(std::move(req)));
  return 0;
}

}  // namespace dvrctl
