#include "cmd_conntrack.h"

#include <ostream>
#include <string>
#include <utility>

#include "args.h"
#include "errors.h"
#include "json_output.h"
#include "option_values.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

using std::to_string;

// "IP:PORT" for tcp and udp, "IP (id N)" for an ICMP echo, else "IP".
std::string endpoint_text(const v1::ConnEntry& e, const std::string& ip, uint32_t port) {
  if (e.protocol() == "tcp" || e.protocol() == "udp") return ip + ":" + to_string(port);
  if (e.protocol() == "icmp" && port != 0) return ip + " (id " + to_string(port) + ")";
  return ip;
}

std::string seconds_text(uint32_t s) {
  return to_string(s) + "s";
}

}  // namespace

int run_conntrack_show(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv,
                                     {{"--port", true},
                                      {"--ip", true},
                                      {"--protocol", true},
                                      {"--l4-port", true},
                                      {"--state", true},
                                      {"--limit", true}},
                                     {}, 0);
  v1::Request req;
  v1::ConntrackRequest& ct = *req.mutable_conntrack();
  for (const char* option : {"--port", "--ip", "--protocol", "--state"}) {
    if (args.has(option)) required_option(args, inv, option);  // not empty
  }
  ct.set_port(args.value("--port").value_or(""));
  ct.set_ip(args.value("--ip").value_or(""));
  ct.set_protocol(args.value("--protocol").value_or(""));
  ct.set_state(args.value("--state").value_or(""));
  if (const auto port = u32_option(args, inv, "--l4-port")) {
    if (*port == 0 || *port > 65535) {
      throw UsageError(inv.name + ": --l4-port: '" + *args.value("--l4-port") +
                           "' is not a port from 1 to 65535",
                       "dvrctl " + inv.name);
    }
    ct.set_l4_port(*port);
  }
  if (const auto limit = u32_option(args, inv, "--limit")) {
    if (*limit == 0) {
      throw UsageError(inv.name + ": --limit: '0' is not a number from 1 to 4294967295",
                       "dvrctl " + inv.name);
    }
    ct.set_limit(*limit);
  }

  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.conntrack(), out);
    return 0;
  }
  const v1::ConntrackTable& t = resp.conntrack();
  Table table({{"PORT"},
               {"PROTO"},
               {"SOURCE"},
               {"DESTINATION"},
               {"STATE"},
               {"ADMITTED"},
               {"AGE", Align::kRight},
               {"IDLE", Align::kRight},
               {"EXPIRES", Align::kRight}});
  for (const v1::ConnEntry& e : t.entries()) {
    table.add_row({e.port(), e.protocol(), endpoint_text(e, e.src_ip(), e.src_port()),
                   endpoint_text(e, e.dst_ip(), e.dst_port()), e.state(), e.admitted_by(),
                   seconds_text(e.age_seconds()), seconds_text(e.idle_seconds()),
                   seconds_text(e.expires_in_seconds())});
  }
  table.print(out);
  out << "\n"
      << t.entries_size() << " of " << t.matched() << " matching entries shown; " << t.live()
      << " live of " << t.capacity() << " capacity\n";
  return 0;
}

int run_conntrack_stats(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  v1::Request req;
  req.mutable_stats();
  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.stats(), out);
    return 0;
  }
  const v1::ConntrackStats& ct = resp.stats().conntrack();
  out << "capacity:  " << ct.capacity() << "\n"
      << "live:      " << ct.live() << "\n"
      << "expired:   " << ct.expired() << "\n"
      << "\n";
  Table workers({{"WORKER", Align::kRight},
                 {"LCORE", Align::kRight},
                 {"CREATED", Align::kRight},
                 {"REVOKED", Align::kRight}});
  for (const v1::WorkerStats& w : resp.stats().workers()) {
    workers.add_row({to_string(w.worker()), to_string(w.lcore()), to_string(w.conntrack_created()),
                     to_string(w.conntrack_revoked())});
  }
  workers.print(out);
  return 0;
}

}  // namespace dvrctl
