#include "cmd_port.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "errors.h"
#include "format.h"
#include "json_output.h"
#include "port_type.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

// Driver arguments as "k=v,k=v", sorted by key (a proto map has no order).
std::string args_text(const v1::PortSpec& spec) {
  std::vector<std::pair<std::string, std::string>> args(spec.args().begin(), spec.args().end());
  std::sort(args.begin(), args.end());
  std::string out;
  for (const auto& [key, value] : args) {
    if (!out.empty()) out += ',';
    out += key + "=" + value;
  }
  return out;
}

Table port_table() {
  return Table({{"NAME"},
                {"TYPE"},
                {"PORT-ID", Align::kRight},
                {"DEVICE"},
                {"DRIVER"},
                {"MAC"},
                {"RXQ", Align::kRight},
                {"TXQ", Align::kRight},
                {"LINK"},
                {"MTU", Align::kRight},
                {"XCONNECT"},
                {"ARGS"}});
}

void add_port_row(Table& table, const v1::PortInfo& port) {
  const v1::PortSpec& spec = port.spec();
  table.add_row({spec.name(), port_type_name(spec.type()), std::to_string(port.dpdk_port_id()),
                 port.device_name(), port.driver(), port.mac(), std::to_string(port.rx_queues()),
                 std::to_string(port.tx_queues()), link_state_name(port.link()),
                 std::to_string(port.mtu()), spec.xconnect(), args_text(spec)});
}

}  // namespace

int run_port_add(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--xconnect", true}}, {"NAME", "TYPE"}, kUnlimited);
  const std::string help_for = "dvrctl " + inv.name;

  v1::Request req;
  v1::PortSpec& spec = *req.mutable_port_add()->mutable_spec();
  spec.set_name(args.positional[0]);
  const auto type = parse_port_type(args.positional[1]);
  if (!type) {
    throw UsageError(inv.name + ": unknown port type '" + args.positional[1] +
                         "' (types: " + port_type_list() + ")",
                     help_for);
  }
  spec.set_type(*type);
  for (size_t i = 2; i < args.positional.size(); ++i) {
    const std::string& kv = args.positional[i];
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError(inv.name + ": '" + kv + "' is not KEY=VALUE", help_for);
    }
    const std::string key = kv.substr(0, eq);
    // xconnect=PEER is accepted like dvrd's --port syntax, as a synonym of --xconnect PEER.
    if (key == "xconnect" ? !spec.xconnect().empty() : spec.args().contains(key)) {
      throw UsageError(inv.name + ": argument '" + key + "' given twice", help_for);
    }
    if (key == "xconnect") {
      spec.set_xconnect(kv.substr(eq + 1));
    } else {
      (*spec.mutable_args())[key] = kv.substr(eq + 1);
    }
  }
  if (const auto peer = args.value("--xconnect")) {
    if (peer->empty()) throw UsageError(inv.name + ": --xconnect needs a port name", help_for);
    if (!spec.xconnect().empty()) {
      throw UsageError(inv.name + ": xconnect given twice", help_for);
    }
    spec.set_xconnect(*peer);
  }

  const v1::Response resp = session.call(std::move(req));
  if (session.json()) {
    print_json(resp.port(), session.out());
    return 0;
  }
  Table table = port_table();
  add_port_row(table, resp.port());
  table.print(session.out());
  return 0;
}

int run_port_remove(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--missing-ok", false}}, {"NAME"}, 1);
  v1::Request req;
  req.mutable_port_remove()->set_name(args.positional[0]);
  req.mutable_port_remove()->set_missing_ok(args.has("--missing-ok"));

  const v1::Response resp = session.call(std::move(req));
  if (session.json()) {
    // The response has no body: print an empty object so that the output is still JSON.
    session.out() << "{}\n";
  } else if (!resp.message().empty()) {
    session.out() << resp.message() << "\n";
  }
  return 0;
}

int run_port_list(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  v1::Request req;
  req.mutable_port_list();

  const v1::Response resp = session.call(std::move(req));
  if (session.json()) {
    print_json(resp.ports(), session.out());
    return 0;
  }
  Table table = port_table();
  for (const v1::PortInfo& port : resp.ports().ports()) add_port_row(table, port);
  table.print(session.out());
  return 0;
}

}  // namespace dvrctl
