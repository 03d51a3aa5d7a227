// Sends the benchmarks' generated network ACL (topology.h, bench_network_acl) to a running dvrd
// in ONE UpsertRequest over the control socket, for scripts/bench/whole_process.sh: 1,000 rules
// through 1,000 `dvrctl acl rule add` calls would recompile the ACL a thousand times. Attaching
// the ACL to networks is left to `dvrctl network set-acl`.
//
//   bench_acl_upsert --socket PATH --acl ID --rules N --src CIDR --dst CIDR
//                    [--protocol udp|tcp] [--dst-port N] [--seed N]
//
// The rules: N in all, half ingress and half egress, defaults deny; in each direction the
// allow rule for PROTOCOL SRC -> DST port DST_PORT sits at 90 % of the list and a deny rule for
// the same traffic comes last (see topology.h). Prints one line:
//   acl=ID rules=N allow_ingress=NUMBER allow_egress=NUMBER request_ms=T
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client.h"
#include "net_addr.h"
#include "topology.h"

namespace {

std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  std::string v = fallback;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s.starts_with("--" + name + "=")) v = s.substr(name.size() + 3);
    if (s == "--" + name && i + 1 < argc) v = argv[i + 1];
  }
  return v;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_acl_upsert --socket PATH --acl ID --rules N --src CIDR --dst CIDR "
               "[--protocol udp|tcp] [--dst-port N] [--seed N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace v1 = dvr::api::v1;
  const std::string socket = flag(argc, argv, "socket", "");
  const std::string id = flag(argc, argv, "acl", "");
  const auto rules = static_cast<uint32_t>(std::atoi(flag(argc, argv, "rules", "0").c_str()));
  const auto src = dvr::parse_ipv4_prefix(flag(argc, argv, "src", ""), true);
  const auto dst = dvr::parse_ipv4_prefix(flag(argc, argv, "dst", ""), true);
  const std::string protocol = flag(argc, argv, "protocol", "udp");
  const int port = std::atoi(flag(argc, argv, "dst-port", "9").c_str());
  const auto seed = static_cast<uint32_t>(std::atoi(flag(argc, argv, "seed", "1").c_str()));
  if (socket.empty() || id.empty() || !src || !dst || port <= 0 || port > 65535 ||
      (protocol != "udp" && protocol != "tcp")) {
    return usage();
  }
  try {
    const dvr::bench::BenchTraffic traffic{*src, *dst, protocol, static_cast<uint16_t>(port)};
    v1::Request req;
    v1::UpsertRequest* up = req.mutable_upsert();
    up->set_replace(true);
    *up->add_objects() = dvr::bench::bench_network_acl(id, rules, traffic, seed);
    dvr::Client client(socket, std::chrono::seconds(60));
    client.hello("bench_acl_upsert");
    const auto t0 = std::chrono::steady_clock::now();
    const v1::Response resp = client.call(std::move(req));
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (resp.status() != v1::STATUS_OK) {
      std::fprintf(stderr, "bench_acl_upsert: dvrd refused the ACL: %s (%s)\n",
                   resp.message().c_str(), dvr::status_name(resp.status()));
      return 1;
    }
    const auto [in, out] = dvr::bench::bench_acl_allow_numbers(rules);
    std::printf("acl=%s rules=%u allow_ingress=%u allow_egress=%u request_ms=%.1f\n", id.c_str(),
                rules, in, out, ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_acl_upsert: %s\n", e.what());
    return 1;
  }
  return 0;
}
