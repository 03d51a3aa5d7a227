#include "daemon_options.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace dvr {

namespace {

template <typename T>
bool parse_number(const std::string& text, T min, T max, T& out) {
  unsigned long long v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return false;
  if (v < static_cast<unsigned long long>(min) || v > static_cast<unsigned long long>(max)) {
    return false;
  }
  out = static_cast<T>(v);
  return true;
}

bool has_arg(const std::vector<std::string>& args, std::initializer_list<const char*> names) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    for (const char* n : names) {
      const std::string name(n);
      if (a == name || a.rfind(name + "=", 0) == 0) return true;
    }
    return false;
  });
}

// "STATE=SECONDS" into the matching field of `t`; an error message otherwise.
std::optional<std::string> set_conntrack_timeout(const std::string& text, dp::ConnTimeouts& t) {
  const std::pair<const char*, uint32_t dp::ConnTimeouts::*> fields[] = {
      {"tcp_syn_sent", &dp::ConnTimeouts::tcp_syn_sent},
      {"tcp_syn_recv", &dp::ConnTimeouts::tcp_syn_recv},
      {"tcp_established", &dp::ConnTimeouts::tcp_established},
      {"tcp_fin_wait", &dp::ConnTimeouts::tcp_fin_wait},
      {"tcp_time_wait", &dp::ConnTimeouts::tcp_time_wait},
      {"tcp_close", &dp::ConnTimeouts::tcp_close},
      {"udp_new", &dp::ConnTimeouts::udp_new},
      {"udp_replied", &dp::ConnTimeouts::udp_replied},
      {"icmp", &dp::ConnTimeouts::icmp},
      {"other_new", &dp::ConnTimeouts::other_new},
      {"other_replied", &dp::ConnTimeouts::other_replied},
  };
  const auto eq = text.find('=');
  if (eq == std::string::npos) return "'" + text + "' is not STATE=SECONDS";
  const std::string state = text.substr(0, eq);
  uint32_t seconds = 0;
  if (!parse_number(text.substr(eq + 1), 1u, 864000u, seconds)) {
    return "'" + text.substr(eq + 1) + "' is not a number of seconds from 1 to 864000";
  }
  for (const auto& [n, field] : fields) {
    if (state == n) {
      t.*field = seconds;
      return std::nullopt;
    }
  }
  std::string names;
  for (const auto& [n, field] : fields) names += std::string(names.empty() ? "" : ", ") + n;
  return "unknown state '" + state + "' (one of " + names + ")";
}

}  // namespace

std::string daemon_usage() {
  return R"(Usage: dvrd [OPTIONS] [-- EAL-ARGUMENTS...]

dvrd is the per-host DPDK fast path for distributed virtual routing. Its workers poll the ports
listed with --port or added later through the control socket (see dvrctl).

Options:
  --socket PATH          control socket (default /run/dvrd/dvrd.sock; the directory is created)
  --dev                  development mode: adds the EAL options --no-huge, --no-pci (unless
                         -a/-b is given) and -m 512 (unless -m/--socket-mem is given), smaller
                         rings and pool, and idle back-off on
  --port NAME=TYPE[,KEY=VALUE...]
                         create a port at startup (repeatable). TYPE is vhost-user, tap,
                         af-packet, pcap, null, ring or pci; KEY=VALUE are the type's arguments,
                         and xconnect=PEER patches the port to PEER. Example:
                           --port vm1=vhost-user,path=/run/dvrd/vm1.sock
  --host-id ID           this host's name in the management plane (default: hostname)
  --router-mode distributed|centralized
                         the `distributed` flag of routers that do not set it (default
                         distributed, as Neutron's router_distributed = True)
  --mbufs N              packet buffers in the pool (default 32767; 16383 with --dev)
  --rx-desc N            rx ring size per queue (default 1024; 512 with --dev)
  --tx-desc N            tx ring size per queue (default 1024; 512 with --dev)
  --exception-queue N    capacity of each worker's queue to the control thread (default 1024)
  --idle-backoff on|off  sleep when idle (default off; on with --dev)
  --idle-polls N         empty polls before the first sleep (default 1000)
  --idle-sleep-max-us N  longest idle sleep, in microseconds (default 250, 0 to 10000);
                         this bounds the extra latency of the first packet after a quiet spell
  --conntrack-size N     connections the security-group conntrack table holds (default 262144;
                         65536 with --dev; 40 bytes per slot, 2 slots per connection). When it
                         is full, new connections are dropped and counted as conntrack_full
  --conntrack-timeout STATE=SECONDS
                         idle timeout of a connection state (repeatable), for security groups
                         and SNAT sessions alike. STATE is one of
                         tcp_syn_sent (120), tcp_syn_recv (60), tcp_established (7200),
                         tcp_fin_wait (120), tcp_time_wait (120), tcp_close (10), udp_new (30),
                         udp_replied (180), icmp (30), other_new (60), other_replied (600)
  --flow-cache-size N    entries of each worker's filter verdict cache (default 16384, 32 bytes
                         each; 0 turns it off). Packets of flows the ACLs and security groups
                         recently allowed are judged from it; see docs/security.md
  --version              print the version and exit
  -h, --help             print this help and exit

EAL arguments follow "--" and pass through to DPDK unchanged. The first lcore is the main
(control) lcore; every other lcore runs one worker, e.g. "-- -l 0-2" gives two workers.
Two instances on one machine need distinct --socket paths and EAL --file-prefix values.

Signals: SIGINT and SIGTERM stop the workers, close the ports, remove the socket and exit 0.
Exit status: 0 after a clean shutdown, 1 on a startup error, 2 on a usage error.
)";
}

std::optional<DaemonOptions> parse_daemon_options(int argc, const char* const* argv,
                                                  std::string& error) {
  DaemonOptions o;
  std::optional<bool> backoff;
  std::optional<uint32_t> mbufs;
  std::optional<uint16_t> rx_desc, tx_desc;
  std::optional<uint32_t> conntrack_size;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      for (int j = i + 1; j < argc; ++j) o.eal_args.emplace_back(argv[j]);
      break;
    }
    // Accept both "--opt value" and "--opt=value".
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto value = [&]() -> std::optional<std::string> {
      if (inline_value) return inline_value;
      if (i + 1 >= argc) {
        error = "option " + name + " needs a value";
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    auto number = [&](auto min, auto max, auto& out) -> bool {
      auto v = value();
      if (!v) return false;
      if (!parse_number(*v, min, max, out)) {
        error = "option " + name + ": '" + *v + "' is not a number from " + std::to_string(min) +
                " to " + std::to_string(max);
        return false;
      }
      return true;
    };

    if (name == "-h" || name == "--help") {
      o.show_help = true;
    } else if (name == "--version") {
      o.show_version = true;
    } else if (name == "--dev") {
      o.dev_mode = true;
    } else if (name == "--socket") {
      auto v = value();
      if (!v) return std::nullopt;
      if (v->empty()) {
        error = "option --socket needs a path";
        return std::nullopt;
      }
      o.socket_path = *v;
    } else if (name == "--host-id") {
      auto v = value();
      if (!v) return std::nullopt;
      o.host_id = *v;
    } else if (name == "--router-mode") {
      auto v = value();
      if (!v) return std::nullopt;
      if (*v != "distributed" && *v != "centralized") {
        error = "option --router-mode takes 'distributed' or 'centralized', not '" + *v + "'";
        return std::nullopt;
      }
      o.distributed_default = *v == "distributed";
    } else if (name == "--port") {
      auto v = value();
      if (!v) return std::nullopt;
      o.port_defs.push_back(*v);
    } else if (name == "--mbufs") {
      uint32_t n = 0;
      if (!number(1023u, 16777215u, n)) return std::nullopt;
      mbufs = n;
    } else if (name == "--rx-desc") {
      uint16_t n = 0;
      if (!number(uint16_t{64}, uint16_t{16384}, n)) return std::nullopt;
      rx_desc = n;
    } else if (name == "--tx-desc") {
      uint16_t n = 0;
      if (!number(uint16_t{64}, uint16_t{16384}, n)) return std::nullopt;
      tx_desc = n;
    } else if (name == "--exception-queue") {
      if (!number(16u, 1048576u, o.dataplane.exception_queue_size)) return std::nullopt;
    } else if (name == "--idle-backoff") {
      auto v = value();
      if (!v) return std::nullopt;
      if (*v != "on" && *v != "off") {
        error = "option --idle-backoff takes 'on' or 'off', not '" + *v + "'";
        return std::nullopt;
      }
      backoff = *v == "on";
    } else if (name == "--idle-polls") {
      if (!number(0u, 100000000u, o.dataplane.backoff.empty_polls_before_sleep))
        return std::nullopt;
    } else if (name == "--idle-sleep-max-us") {
      if (!number(0u, 10000u, o.dataplane.backoff.max_sleep_us)) return std::nullopt;
    } else if (name == "--conntrack-size") {
      uint32_t n = 0;
      if (!number(1024u, 16777216u, n)) return std::nullopt;
      conntrack_size = n;
    } else if (name == "--flow-cache-size") {
      if (!number(0u, 16777216u, o.dataplane.flow_cache_entries)) return std::nullopt;
    } else if (name == "--conntrack-timeout") {
      auto v = value();
      if (!v) return std::nullopt;
      if (auto e = set_conntrack_timeout(*v, o.dataplane.conntrack_timeouts)) {
        error = "option --conntrack-timeout: " + *e;
        return std::nullopt;
      }
    } else {
      error = "unknown option '" + arg + "' (EAL arguments go after '--')";
      return std::nullopt;
    }
  }
  o.dataplane.mbufs = mbufs.value_or(o.dev_mode ? 16383 : 32767);
  o.dataplane.rx_desc = rx_desc.value_or(o.dev_mode ? 512 : 1024);
  o.dataplane.tx_desc = tx_desc.value_or(o.dev_mode ? 512 : 1024);
  o.dataplane.backoff.enabled = backoff.value_or(o.dev_mode);
  o.dataplane.conntrack_capacity = conntrack_size.value_or(o.dev_mode ? 65536 : 262144);
  return o;
}

std::vector<std::string> eal_arguments(const DaemonOptions& opts) {
  std::vector<std::string> args{"dvrd"};
  if (opts.dev_mode) {
    if (!has_arg(opts.eal_args, {"--no-huge"})) args.emplace_back("--no-huge");
    // No physical NICs in development: never let DPDK probe (and grab) the machine's own PCI
    // network devices.
    if (!has_arg(opts.eal_args, {"--no-pci", "-a", "--allow", "-b", "--block"})) {
      args.emplace_back("--no-pci");
    }
    if (!has_arg(opts.eal_args, {"-m", "--socket-mem"})) {
      args.emplace_back("-m");
      args.emplace_back("512");
    }
  }
  args.insert(args.end(), opts.eal_args.begin(), opts.eal_args.end());
  return args;
}

}  // namespace dvr
