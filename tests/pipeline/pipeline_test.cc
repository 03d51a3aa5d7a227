// Pipeline tests: real EAL (no hugepages), real pcap/null ports, the real worker code. Packets
// go in through a pcap file and come out through another; the tests compare bytes and counters.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <numeric>
#include <thread>

#include "dataplane.h"
#include "errors.h"
#include "pcap_io.h"

namespace dvr::dp {
namespace {

using test::Frame;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dvr_pipeline_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    dp_.reset();
    std::filesystem::remove_all(dir_);
  }

  void make_dataplane(uint32_t exception_queue = 1024) {
    DataplaneOptions o;
    o.mbufs = 8191;
    o.rx_desc = 256;
    o.tx_desc = 256;
    o.exception_queue_size = exception_queue;
    dp_ = std::make_unique<Dataplane>(o);
  }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  // A pcap port reading `frames` and writing what it transmits to <name>.out.pcap.
  void add_pcap_port(const std::string& name, const std::vector<Frame>& frames,
                     const std::string& xconnect = {}) {
    test::write_pcap(path(name + ".in.pcap"), frames);
    PortSpec s{name,
               PortType::kPcap,
               {{"rx_pcap", path(name + ".in.pcap")}, {"tx_pcap", path(name + ".out.pcap")}},
               xconnect};
    dp_->add_port(s);
  }

  // Polls worker `w` until it has seen no packet for a few polls in a row.
  void poll_until_quiet(unsigned w) {
    int quiet = 0;
    for (int i = 0; i < 10000 && quiet < 5; ++i)
      quiet = dp_->worker(w).poll_once() == 0 ? quiet + 1 : 0;
  }

  PortStatsSnapshot stats(const std::string& name) const {
    for (const auto& s : dp_->port_stats()) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no stats for " << name;
    return {};
  }

  static uint64_t drops(const PortStatsSnapshot& s, DropReason r) {
    return s.drops[static_cast<size_t>(r)];
  }

  std::string dir_;
  std::unique_ptr<Dataplane> dp_;
};

std::vector<Frame> udp_frames(unsigned n) {
  std::vector<Frame> v;
  for (unsigned i = 0; i < n; ++i) v.push_back(test::ipv4_udp_frame(i, 18 + (i * 37) % 1400));
  return v;
}

uint64_t total_bytes(const std::vector<Frame>& frames) {
  uint64_t n = 0;
  for (const auto& f : frames) n += f.size();
  return n;
}

TEST_F(PipelineTest, XconnectForwardsEveryByteAndCountsIt) {
  make_dataplane();
  const auto input = udp_frames(100);
  add_pcap_port("out", {});
  add_pcap_port("in", input, "out");
  poll_until_quiet(0);

  const auto in = stats("in");
  const auto out = stats("out");
  EXPECT_EQ(in.rx_packets, 100u);
  EXPECT_EQ(in.rx_bytes, total_bytes(input));
  EXPECT_EQ(out.tx_packets, 100u);
  EXPECT_EQ(out.tx_bytes, total_bytes(input));
  EXPECT_EQ(std::accumulate(in.drops.begin(), in.drops.end(), uint64_t{0}), 0u);

  dp_->remove_port("out");  // closes (and flushes) the output pcap
  EXPECT_EQ(test::read_pcap(path("out.out.pcap")), input);
}

TEST_F(PipelineTest, EveryDropAndPuntHasItsReason) {
  make_dataplane();
  std::vector<Frame> input;
  for (unsigned i = 0; i < 5; ++i) input.push_back(Frame(10, 0xab));  // runts
  for (unsigned i = 0; i < 7; ++i) input.push_back(test::arp_request_frame(i));
  for (unsigned i = 0; i < 11; ++i) input.push_back(test::ipv4_udp_frame(i));
  add_pcap_port("in", input);
  poll_until_quiet(0);

  const auto s = stats("in");
  EXPECT_EQ(s.rx_packets, 23u);
  EXPECT_EQ(drops(s, DropReason::kFrameTooShort), 5u);
  EXPECT_EQ(drops(s, DropReason::kNoForwardingPath), 11u);
  EXPECT_EQ(dp_->drain_exceptions(), 7u);
  EXPECT_EQ(dp_->punts_received()[static_cast<size_t>(PuntReason::kArp)], 7u);

  const auto workers = dp_->worker_stats();
  EXPECT_EQ(workers[0].punted, 7u);
  // Every stage of the standard chain reports; on a port bound to no VM port the tenant stages
  // pass everything through, and punt sees what eth-input let by.
  auto stage = [&](const std::string& name) {
    for (const auto& st : workers[0].stages) {
      if (st.name == name) return st;
    }
    ADD_FAILURE() << "no stage " << name;
    return StageSnapshot{};
  };
  // ip4-fast comes first and takes nothing from an unbound port: eth-input sees every frame.
  EXPECT_EQ(workers[0].stages.front().name, "ip4-fast");
  EXPECT_EQ(stage("ip4-fast").packets, 23u);
  EXPECT_EQ(stage("eth-input").packets, 23u);
  EXPECT_EQ(stage("punt").packets, 18u);  // the runts never got past eth-input
}

TEST_F(PipelineTest, FullExceptionQueueDropsWithoutBlocking) {
  make_dataplane(16);
  std::vector<Frame> input;
  for (unsigned i = 0; i < 40; ++i) input.push_back(test::arp_request_frame(i));
  add_pcap_port("in", input);
  poll_until_quiet(0);  // the control thread does not drain meanwhile

  const auto s = stats("in");
  EXPECT_EQ(drops(s, DropReason::kPuntQueueFull), 24u);
  EXPECT_EQ(dp_->worker_stats()[0].punt_queue_full, 24u);
  EXPECT_EQ(dp_->drain_exceptions(), 16u);
}

TEST_F(PipelineTest, XconnectPeerIsResolvedWhenItAppears) {
  make_dataplane();
  add_pcap_port("in", udp_frames(10), "late");
  poll_until_quiet(0);
  EXPECT_EQ(drops(stats("in"), DropReason::kXconnectPeerDown), 10u);

  // A second input port patched to the same, still missing, peer; then the peer arrives.
  add_pcap_port("late", {});
  add_pcap_port("in2", udp_frames(6), "late");
  poll_until_quiet(0);
  EXPECT_EQ(stats("late").tx_packets, 6u);
  EXPECT_EQ(drops(stats("in2"), DropReason::kXconnectPeerDown), 0u);
}

TEST_F(PipelineTest, WorkerWithoutTxQueueHandsOffToQueueOwner) {
  make_dataplane();
  ASSERT_EQ(dp_->worker_count(), 2u);
  add_pcap_port("out", {});  // pcap: one tx queue, so worker 1 must hand off
  dp_->add_port(PortSpec{"src", PortType::kNull, {}, "out"});  // null: two rx queues, generates
  const auto ports = dp_->list_ports();
  for (const auto& p : ports) {
    if (p.record.spec.name == "out") {
      ASSERT_EQ(p.record.tx_queues, 1u);
      ASSERT_NE(p.record.tx_handoff, nullptr);
    }
    if (p.record.spec.name == "src") {
      ASSERT_EQ(p.record.rx_queues, 2u);
    }
  }
  const uint32_t from_q1 = dp_->worker(1).poll_once();  // rx on queue 1, hand-off to worker 0
  EXPECT_GT(from_q1, 0u);
  EXPECT_EQ(stats("out").tx_packets, 0u);  // not sent yet: waiting in the hand-off ring
  dp_->remove_port("src");                 // stop the generator before worker 0 polls
  dp_->worker(0).poll_once();              // drains the ring
  EXPECT_EQ(stats("out").tx_packets, from_q1);
  EXPECT_EQ(drops(stats("out"), DropReason::kTxHandoffFull), 0u);
}

TEST_F(PipelineTest, ConfigurationChurnNeverLosesAPacket) {
  make_dataplane();
  // A continuous stream (the pcap replays forever) from "in", patched to a sink, while unrelated
  // ports come and go: every packet received must be transmitted, none dropped.
  test::write_pcap(path("stream.pcap"), udp_frames(64));
  dp_->add_port(PortSpec{"out", PortType::kNull, {{"no-rx", "1"}}, {}});
  dp_->add_port(PortSpec{
      "in", PortType::kPcap, {{"rx_pcap", path("stream.pcap")}, {"infinite_rx", "1"}}, "out"});
  dp_->start_workers();
  const uint64_t gen_before = dp_->config_generation();
  constexpr int kChurns = 50;
  for (int i = 0; i < kChurns; ++i) {
    dp_->add_port(PortSpec{"churn", PortType::kNull, {{"no-rx", "1"}}, {}});
    dp_->remove_port("churn");
  }
  dp_->stop_workers();
  EXPECT_EQ(dp_->config_generation(), gen_before + 2 * kChurns);
  const auto in = stats("in");
  const auto out = stats("out");
  EXPECT_GT(in.rx_packets, 0u);
  EXPECT_EQ(out.tx_packets, in.rx_packets);
  EXPECT_EQ(std::accumulate(in.drops.begin(), in.drops.end(), uint64_t{0}), 0u);
  EXPECT_EQ(std::accumulate(out.drops.begin(), out.drops.end(), uint64_t{0}), 0u);
}

TEST_F(PipelineTest, BadPortDefinitionsAreRefusedAndLeaveOtherPortsAlone) {
  make_dataplane();
  add_pcap_port("keep", {});
  EXPECT_THROW(dp_->add_port(PortSpec{"keep", PortType::kNull, {}, {}}), DataplaneError);
  try {
    dp_->add_port(PortSpec{"bad", PortType::kPcap, {{"rx_pcap", path("missing.pcap")}}, {}});
    FAIL() << "a pcap port on a missing file was accepted";
  } catch (const DataplaneError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("driver rejected"), std::string::npos) << e.what();
  }
  try {
    dp_->remove_port("nope");
    FAIL();
  } catch (const DataplaneError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
  }
  ASSERT_EQ(dp_->list_ports().size(), 1u);
  EXPECT_EQ(dp_->list_ports()[0].record.spec.name, "keep");
}

}  // namespace
}  // namespace dvr::dp
