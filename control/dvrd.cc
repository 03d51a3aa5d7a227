// dvrd: the per-host DVR fast path. The main lcore runs the control thread (this file's loop);
// every other EAL lcore runs a poll-mode worker.
#include <rte_eal.h>
#include <rte_errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "api_handler.h"
#include "daemon_options.h"
#include "errors.h"
#include "server.h"

namespace {

constexpr const char* kVersion = "0.1.0";
// How often the control thread wakes up to drain the workers' exception queues when no control
// traffic arrives. Punted packets wait at most this long.
constexpr int kControlTickMs = 2;

[[noreturn]] void die(const std::string& msg, int code = 1) {
  std::fprintf(stderr, "dvrd: %s\n", msg.c_str());
  std::exit(code);
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

// Blocks the stop signals in every thread (EAL threads inherit the mask) and returns a signalfd
// for the control loop.
int block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) die("cannot create a signalfd");
  return fd;
}

int run(const dvr::DaemonOptions& opts) {
  // Refuse early, before touching hugepages or devices, when another dvrd owns the socket.
  try {
    dvr::ControlServer::check_not_in_use(opts.socket_path);
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::vector<dvr::dp::PortSpec> startup_ports;
  for (const std::string& def : opts.port_defs) {
    std::string err;
    auto spec = dvr::dp::parse_port_spec_text(def, err);
    if (!spec) die("--port " + def + ": " + err, 2);
    startup_ports.push_back(*spec);
  }

  const int sigfd = block_stop_signals();
  std::vector<std::string> eal_args = dvr::eal_arguments(opts);
  std::vector<char*> eal_argv;
  for (auto& a : eal_args) eal_argv.push_back(a.data());
  eal_argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(eal_args.size()), eal_argv.data()) < 0) {
    die(std::string("EAL initialisation failed: ") + rte_strerror(rte_errno) +
        " (check the EAL arguments after '--')");
  }

  int exit_code = 0;
  {
    std::unique_ptr<dvr::dp::Dataplane> dataplane;
    try {
      dataplane = std::make_unique<dvr::dp::Dataplane>(opts.dataplane);
      for (const auto& spec : startup_ports) dataplane->add_port(spec);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dvrd: %s\n", e.what());
      dataplane.reset();
      rte_eal_cleanup();
      return 1;
    }

    auto handler = std::make_unique<dvr::ApiHandler>(
        *dataplane, dvr::HostConfig{opts.host_id.empty() ? hostname() : opts.host_id, opts.dev_mode,
                                    opts.distributed_default});
    dvr::ControlServer server(opts.socket_path, *handler);
    bool stop = false;
    try {
      server.open();
      server.watch(sigfd, [&] {
        signalfd_siginfo si{};
        while (::read(sigfd, &si, sizeof(si)) == sizeof(si)) stop = true;
      });
      dataplane->start_workers();
      std::fprintf(stderr, "dvrd: %u worker(s) running, control socket %s\n",
                   dataplane->worker_count(), opts.socket_path.c_str());
      while (!stop) {
        server.poll_once(kControlTickMs);
        handler->tick();
        dataplane->housekeeping();
      }
      std::fprintf(stderr, "dvrd: stopping\n");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "dvrd: %s\n", e.what());
      exit_code = 1;
    }
    dataplane->stop_workers();
    server.close();
    handler.reset();    // the tenant state (route tables) goes while the dataplane still exists
    dataplane.reset();  // removes the ports
  }
  ::close(sigfd);
  rte_eal_cleanup();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string err;
  auto opts = dvr::parse_daemon_options(argc, argv, err);
  if (!opts) {
    std::fprintf(stderr, "dvrd: %s\nTry 'dvrd --help'.\n", err.c_str());
    return 2;
  }
  if (opts->show_help) {
    std::fputs(dvr::daemon_usage().c_str(), stdout);
    return 0;
  }
  if (opts->show_version) {
    std::printf("dvrd %s (control API v1)\n", kVersion);
    return 0;
  }
  return run(*opts);
}
