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
  v1::Request req;
  v1::HostIdentity& host = *req.mutable_host_set()->mutable_host();
  host.set_host_id(required_option(args, inv, "--host-id"));
  host.set_dvr_mac(args.value("--dvr-mac").value_or(""));
  host.set_tunnel_ip(args.value("--tunnel-ip").value_or(""));
  host.set_distributed_default(bool_option(args, inv, "--distributed-default").value_or(false));
  host.set_snat_node(args.has("--snat-node"));
  print_bodyless_response(session, session.call(std::move(req)));
  return 0;
}

}  // namespace dvrctl
