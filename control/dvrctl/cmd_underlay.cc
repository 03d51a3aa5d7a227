#include "cmd_underlay.h"

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

// A number that is 0 while the uplink is missing: "-" then.
std::string number_or_dash(uint32_t n) {
  return n == 0 ? "-" : to_string(n);
}

}  // namespace

int run_underlay_show(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  v1::Request req;
  req.mutable_underlay();
  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.underlay(), out);
    return 0;
  }
  const v1::UnderlayStatus& u = resp.underlay();
  if (u.uplink_port().empty()) {
    out << "no overlay configured\n";
    return 0;
  }
  out << "uplink port:     " << printable(u.uplink_port())
      << (u.uplink_present() ? " (present)" : " (not present: the overlay is down)") << "\n"
      << "uplink MAC:      " << text(u.uplink_mac()) << "\n"
      << "uplink MTU:      " << number_or_dash(u.uplink_mtu()) << "\n"
      << "tunnel IP:       " << text(u.tunnel_ip()) << "\n"
      << "VXLAN UDP port:  " << u.vxlan_udp_port() << "\n"
      << "overlay MTU:     " << number_or_dash(u.overlay_mtu()) << "\n"
      << "\n";
  Table neighbors({{"IP"}, {"MAC"}, {"STATE"}, {"AGE", Align::kRight}, {"PROBES", Align::kRight}});
  for (const v1::UnderlayNeighbor& n : u.neighbors()) {
    // An entry that never had a reply has no age.
    neighbors.add_row({n.ip(), n.mac(), n.state(),
                       n.mac().empty() ? "" : to_string(n.age_seconds()) + "s",
                       to_string(n.probes())});
  }
  neighbors.print(out);
  out << "\n";
  Table hosts({{"HOST"}, {"TUNNEL-IP"}, {"NEXTHOP"}, {"NEXTHOP-MAC"}, {"RESOLVED"}});
  for (const v1::RemoteHostPath& h : u.remote_hosts()) {
    hosts.add_row({h.host_id(), h.tunnel_ip(), h.nexthop(), h.nexthop_mac(), yes_no(h.resolved())});
  }
  hosts.print(out);
  return 0;
}

}  // namespace dvrctl
