#include "cmd_external.h"

#include <ostream>
#include <string>
#include <utility>

#include "args.h"
#include "format.h"
#include "json_output.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

using std::to_string;

std::string text(const std::string& s) {
  return s.empty() ? "-" : printable(s);
}

// The items comma-separated; "-" when there are none.
std::string list_text(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return text(out);
}

void print_network(const v1::ExternalNetworkStatus& n, std::ostream& out) {
  std::string port;
  if (n.port().empty()) {
    port = "- (this host maps no port to the physical network)";
  } else {
    port = printable(n.port()) + (n.port_present() ? " (present)" : " (not present)");
  }
  out << "network:           " << text(n.network_id()) << "\n"
      << "physical network:  " << text(n.physical_network()) << "\n"
      << "port:              " << port << "\n"
      << "VLAN:              " << (n.vlan() == 0 ? "untagged" : to_string(n.vlan())) << "\n"
      << "gateway IP:        " << text(n.gateway_ip()) << "\n"
      << "gateway MAC:       " << text(n.gateway_mac()) << "\n"
      << "upstream IP:       " << text(n.upstream_ip()) << "\n"
      << "floating IPs:      " << list_text(n.floating_ips()) << "\n"
      << "SNAT IPs:          " << list_text(n.snat_ips()) << "\n"
      << "\n";
  Table neighbors({{"IP"}, {"MAC"}, {"STATE"}, {"AGE", Align::kRight}, {"PROBES", Align::kRight}});
  for (const v1::UnderlayNeighbor& nb : n.neighbors()) {
    // An entry that never had a reply has no age.
    neighbors.add_row({nb.ip(), nb.mac(), nb.state(),
                       nb.mac().empty() ? "" : to_string(nb.age_seconds()) + "s",
                       to_string(nb.probes())});
  }
  neighbors.print(out);
}

}  // namespace

int run_external_show(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  v1::Request req;
  req.mutable_external();
  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.external(), out);
    return 0;
  }
  const v1::ExternalStatus& status = resp.external();
  if (status.networks().empty()) {
    out << "no external networks\n";
    return 0;
  }
  bool first = true;
  for (const v1::ExternalNetworkStatus& n : status.networks()) {
    if (!first) out << "\n";
    first = false;
    print_network(n, out);
  }
  return 0;
}

}  // namespace dvrctl
