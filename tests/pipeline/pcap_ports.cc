#include "pcap_ports.h"

namespace dvr::test {

std::map<std::string, std::vector<Frame>> PcapPorts::run(const std::string& in,
                                                         const std::vector<Frame>& frames,
                                                         const std::function<void()>& added,
                                                         const std::function<void(int)>& polled) {
  for (const auto& n : names_) {
    write_pcap(dir_ + "/" + n + ".in", n == in ? frames : std::vector<Frame>{});
    dp_.add_port(
        dp::PortSpec{n,
                     dp::PortType::kPcap,
                     {{"rx_pcap", dir_ + "/" + n + ".in"}, {"tx_pcap", dir_ + "/" + n + ".out"}},
                     {}});
  }
  api_.ports_changed();
  if (added) added();
  // Until five polls in a row find nothing (bounded: a pcap port runs dry after its file).
  int quiet = 0, busy = 0;
  for (int i = 0; i < 100000 && quiet < 5; ++i) {
    if (dp_.worker(0).poll_once() == 0) {
      ++quiet;
      continue;
    }
    quiet = 0;
    if (polled) polled(busy);
    ++busy;
  }
  last_stats_ = dp_.port_stats();
  std::map<std::string, std::vector<Frame>> out;
  for (const auto& n : names_) {
    api_.ports_changed(n);
    dp_.remove_port(n);
    out[n] = read_pcap(dir_ + "/" + n + ".out");
  }
  return out;
}

uint64_t port_drops(const std::vector<dp::PortStatsSnapshot>& stats, const std::string& port,
                    dp::DropReason r) {
  for (const auto& s : stats) {
    if (s.name == port) return s.drops[static_cast<size_t>(r)];
  }
  return 0;
}

}  // namespace dvr::test
