#include "cmd_version.h"

#include <string>

#include "args.h"
#include "dvrctl_version.h"
#include "format.h"
#include "json_output.h"
#include "session.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

int run_version(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  const auto& hello = session.hello();
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(hello, out);
    return 0;
  }
  const auto text = [](const std::string& s) { return s.empty() ? "-" : printable(s); };
  const v1::HostIdentity& host = hello.host();
  // Unset, dvrd takes DVR_SNAT on a SNAT node and DVR elsewhere.
  std::string agent_mode = agent_mode_name(host.agent_mode());
  if (host.agent_mode() == v1::AGENT_MODE_UNSPECIFIED) {
    agent_mode += host.snat_node() ? " (dvr_snat: a SNAT node)" : " (dvr)";
  }
  std::string physnets;
  for (const v1::PhysnetPort& p : host.physnet_ports()) {
    if (!physnets.empty()) physnets += ", ";
    physnets += p.physical_network() + "=" + p.port();
  }
  out << "dvrd version:      " << text(hello.dvrd_version()) << "\n"
      << "API version:       " << static_cast<int>(hello.api_version()) << "\n"
      << "host id:           " << text(host.host_id()) << "\n"
      << "agent mode:        " << agent_mode << "\n"
      << "physical networks: " << text(physnets) << "\n"
      << "workers:           " << hello.worker_count() << "\n"
      << "development mode:  " << yes_no(hello.development_mode()) << "\n"
      << "dvrctl version:    " << DVRCTL_VERSION << "\n";
  return 0;
}

}  // namespace dvrctl
