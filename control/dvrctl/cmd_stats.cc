#include "cmd_stats.h"

#include <cstdint>
#include <ostream>
#include <string>

#include "args.h"
#include "cmd_snat.h"
#include "errors.h"
#include "format.h"
#include "json_output.h"
#include "session.h"
#include "table.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

namespace {

using std::to_string;

void print_ports(const v1::Stats& stats, std::ostream& out) {
  Table ports({{"NAME"},
               {"RX-PKTS", Align::kRight},
               {"RX-BYTES", Align::kRight},
               {"TX-PKTS", Align::kRight},
               {"TX-BYTES", Align::kRight},
               {"DROPS", Align::kRight},
               {"HW-MISSED", Align::kRight},
               {"HW-RX-ERR", Align::kRight},
               {"HW-TX-ERR", Align::kRight},
               {"NOMBUF", Align::kRight}});
  Table drops({{"PORT"}, {"REASON"}, {"PACKETS", Align::kRight}});
  for (const v1::PortStats& p : stats.ports()) {
    ports.add_row({p.name(), to_string(p.rx_packets()), to_string(p.rx_bytes()),
                   to_string(p.tx_packets()), to_string(p.tx_bytes()), to_string(p.drops()),
                   to_string(p.hw_rx_missed()), to_string(p.hw_rx_errors()),
                   to_string(p.hw_tx_errors()), to_string(p.hw_rx_nombuf())});
    for (const v1::DropCount& d : p.drop_reasons()) {
      if (d.packets() != 0) drops.add_row({p.name(), d.reason(), to_string(d.packets())});
    }
  }
  ports.print(out);
  if (!drops.empty()) {
    out << '\n';
    drops.print(out);
  }
}

void print_workers(const v1::Stats& stats, std::ostream& out) {
  Table workers({{"WORKER", Align::kRight},       {"LCORE", Align::kRight},
                 {"BUSY%", Align::kRight},        {"BUSY-CYCLES", Align::kRight},
                 {"IDLE-CYCLES", Align::kRight},  {"POLLS", Align::kRight},
                 {"SLEEPS", Align::kRight},       {"PUNTED", Align::kRight},
                 {"PUNT-FULL", Align::kRight},    {"RXQ", Align::kRight},
                 {"GEN", Align::kRight},          {"CT-CREATED", Align::kRight},
                 {"CT-REVOKED", Align::kRight},   {"FCACHE-HIT", Align::kRight},
                 {"FCACHE-MISS", Align::kRight},  {"VXLAN-ENC", Align::kRight},
                 {"VXLAN-DEC", Align::kRight},    {"FLOOD-COPIES", Align::kRight},
                 {"NAT-IN", Align::kRight},       {"NAT-OUT", Align::kRight},
                 {"SNAT-CREATED", Align::kRight}, {"SNAT-REDIR", Align::kRight},
                 {"NAT-HAIRPIN", Align::kRight}});
  Table stages({{"WORKER", Align::kRight},
                {"STAGE"},
                {"PACKETS", Align::kRight},
                {"CYCLES/PKT", Align::kRight}});
  for (const v1::WorkerStats& w : stats.workers()) {
    workers.add_row({to_string(w.worker()),
                     to_string(w.lcore()),
                     percent(w.busy_cycles(), w.idle_cycles()),
                     to_string(w.busy_cycles()),
                     to_string(w.idle_cycles()),
                     to_string(w.polls()),
                     to_string(w.sleeps()),
                     to_string(w.punted()),
                     to_string(w.punt_queue_full()),
                     to_string(w.rx_queues()),
                     to_string(w.config_generation()),
                     to_string(w.conntrack_created()),
                     to_string(w.conntrack_revoked()),
                     to_string(w.flow_cache_hits()),
                     to_string(w.flow_cache_misses()),
                     to_string(w.vxlan_encapsulated()),
                     to_string(w.vxlan_decapsulated()),
                     to_string(w.flood_copies()),
                     to_string(w.nat_inbound()),
                     to_string(w.nat_outbound()),
                     to_string(w.snat_sessions_created()),
                     to_string(w.snat_redirected()),
                     to_string(w.nat_hairpinned())});
    for (const v1::StageStats& s : w.stages()) {
      stages.add_row({to_string(w.worker()), s.name(), to_string(s.packets()),
                      ratio(s.cycles(), s.packets())});
    }
  }
  workers.print(out);
  if (!stages.empty()) {
    out << '\n';
    stages.print(out);
  }
}

void print_punts(const v1::Stats& stats, std::ostream& out) {
  Table punts({{"REASON"}, {"PACKETS", Align::kRight}});
  for (const v1::PuntStats& p : stats.punts()) punts.add_row({p.reason(), to_string(p.packets())});
  punts.print(out);
}

// The connection-tracking table: CT-CAPACITY CT-LIVE CT-EXPIRED.
void print_conntrack(const v1::Stats& stats, std::ostream& out) {
  Table table(
      {{"CT-CAPACITY", Align::kRight}, {"CT-LIVE", Align::kRight}, {"CT-EXPIRED", Align::kRight}});
  const v1::ConntrackStats& ct = stats.conntrack();
  table.add_row({to_string(ct.capacity()), to_string(ct.live()), to_string(ct.expired())});
  table.print(out);
}

// Only when dvrd reports routers: ROUTER ROUTED DROPS, then the non-zero drop reasons.
void print_routers(const v1::Stats& stats, std::ostream& out) {
  if (stats.routers().empty()) return;
  Table routers({{"ROUTER"}, {"ROUTED", Align::kRight}, {"DROPS", Align::kRight}});
  Table drops({{"ROUTER"}, {"REASON"}, {"PACKETS", Align::kRight}});
  for (const v1::RouterStats& r : stats.routers()) {
    uint64_t total = 0;
    for (const v1::DropCount& d : r.drop_reasons()) {
      total += d.packets();
      if (d.packets() != 0) drops.add_row({r.router_id(), d.reason(), to_string(d.packets())});
    }
    routers.add_row({r.router_id(), to_string(r.routed_packets()), to_string(total)});
  }
  out << '\n';
  routers.print(out);
  if (!drops.empty()) {
    out << '\n';
    drops.print(out);
  }
}

// Only when this host runs some router's default SNAT: ROUTER SNAT-IP PORTS TCP UDP ICMP (live
// sessions) EXHAUSTED EXPIRED.
void print_snat(const v1::Stats& stats, std::ostream& out) {
  if (stats.snat().empty()) return;
  Table snat({{"ROUTER"},
              {"SNAT-IP"},
              {"PORTS"},
              {"TCP", Align::kRight},
              {"UDP", Align::kRight},
              {"ICMP", Align::kRight},
              {"EXHAUSTED", Align::kRight},
              {"EXPIRED", Align::kRight}});
  for (const v1::SnatStats& s : stats.snat()) {
    snat.add_row({s.router_id(), s.snat_ip(), snat_ports_text(s.ports()),
                  to_string(s.tcp_sessions()), to_string(s.udp_sessions()),
                  to_string(s.icmp_sessions()), to_string(s.exhausted()), to_string(s.expired())});
  }
  out << '\n';
  snat.print(out);
}

}  // namespace

int run_stats(Session& session, const Invocation& inv) {
  const ParsedArgs args = parse_args(inv, {{"--port", true}}, {}, 0);
  v1::Request req;
  v1::StatsRequest& stats_req = *req.mutable_stats();
  if (const auto port = args.value("--port")) {
    if (port->empty()) {
      throw UsageError(inv.name + ": --port needs a port name", "dvrctl " + inv.name);
    }
    stats_req.set_port(*port);
  }

  const v1::Response resp = session.call(std::move(req));
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(resp.stats(), out);
    return 0;
  }
  print_ports(resp.stats(), out);
  out << '\n';
  print_workers(resp.stats(), out);
  out << '\n';
  print_punts(resp.stats(), out);
  out << '\n';
  print_conntrack(resp.stats(), out);
  print_routers(resp.stats(), out);
  print_snat(resp.stats(), out);
  return 0;
}

}  // namespace dvrctl
