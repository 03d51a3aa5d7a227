#include "cmd_neighbor.h"

#include <utility>

#include "args.h"
#include "json_output.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

int run_neighbor_show(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {}, {}, 1);
  v1::Request req;
  v1::NeighborTableRequest& table_req = *req.mutable_neighbor_table();
  if (!args.positional.empty()) table_req.set_network_id(args.positional[0]);
  const v1::Response resp = session.call(std::move(req));
  if (session.json()) {
    print_json(resp.neighbor_table(), session.out());
    return 0;
  }
  Table table({{"NETWORK"}, {"IP"}, {"MAC"}, {"VM-PORT"}, {"HOST"}});
  for (const v1::Neighbor& n : resp.neighbor_table().neighbors()) {
    table.add_row({n.network_id(), n.ip(), n.mac(), n.vm_port_id(), n.host_id()});
  }
  table.print(session.out());
  return 0;
}

}  // namespace dvrctl
