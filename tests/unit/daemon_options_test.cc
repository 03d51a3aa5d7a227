// dvrd's command line: its own options, development-mode defaults, and the EAL pass-through.
#include <gtest/gtest.h>

#include "daemon_options.h"

namespace dvr {
namespace {

std::optional<DaemonOptions> parse(const std::vector<const char*>& args, std::string& err) {
  std::vector<const char*> argv(args.size() + 1, "dvrd");
  std::copy(args.begin(), args.end(), argv.begin() + 1);
  return parse_daemon_options(static_cast<int>(argv.size()), argv.data(), err);
}

TEST(DaemonOptions, ProductionDefaults) {
  std::string err;
  auto o = parse({}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->socket_path, "/run/dvrd/dvrd.sock");
  EXPECT_FALSE(o->dev_mode);
  EXPECT_FALSE(o->dataplane.backoff.enabled);
  EXPECT_EQ(o->dataplane.mbufs, 32767u);
  EXPECT_EQ(o->dataplane.rx_desc, 1024u);
  EXPECT_EQ(eal_arguments(*o), std::vector<std::string>{"dvrd"});
}

TEST(DaemonOptions, DevModeAddsNoHugeNoPciMemoryAndBackoff) {
  std::string err;
  auto o = parse({"--dev", "--", "-l", "0,1", "--file-prefix", "x"}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_TRUE(o->dataplane.backoff.enabled);
  EXPECT_EQ(o->dataplane.mbufs, 16383u);
  EXPECT_EQ(eal_arguments(*o),
            (std::vector<std::string>{"dvrd", "--no-huge", "--no-pci", "-m", "512", "-l", "0,1",
                                      "--file-prefix", "x"}));
}

TEST(DaemonOptions, DevModeRespectsTheOperatorsEalChoices) {
  std::string err;
  auto o = parse(
      {"--dev", "--idle-backoff", "off", "--", "--no-huge", "-m", "128", "-a", "0000:01:00.0"},
      err);
  ASSERT_TRUE(o) << err;
  EXPECT_FALSE(o->dataplane.backoff.enabled);
  EXPECT_EQ(eal_arguments(*o),
            (std::vector<std::string>{"dvrd", "--no-huge", "-m", "128", "-a", "0000:01:00.0"}));
}

TEST(DaemonOptions, ValuesInBothSpellings) {
  std::string err;
  auto o = parse({"--socket=/tmp/a.sock", "--mbufs", "4095", "--port", "a=null",
                  "--port=b=tap,iface=x", "--idle-sleep-max-us=100", "--host-id", "hv7"},
                 err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->socket_path, "/tmp/a.sock");
  EXPECT_EQ(o->dataplane.mbufs, 4095u);
  EXPECT_EQ(o->port_defs, (std::vector<std::string>{"a=null", "b=tap,iface=x"}));
  EXPECT_EQ(o->dataplane.backoff.max_sleep_us, 100u);
  EXPECT_EQ(o->host_id, "hv7");
}

TEST(DaemonOptions, ErrorsSayWhatIsWrong) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--bogus"}, "unknown option '--bogus'"},
      {{"--socket"}, "needs a value"},
      {{"--socket", ""}, "needs a path"},
      {{"--mbufs", "12x"}, "'12x' is not a number from 1023 to 16777215"},
      {{"--mbufs", "10"}, "is not a number from 1023"},
      {{"--rx-desc", "99999"}, "from 64 to 16384"},
      {{"--idle-backoff", "maybe"}, "takes 'on' or 'off'"},
      {{"--idle-sleep-max-us", "20000"}, "from 0 to 10000"},
      {{"-l", "0,1"}, "EAL arguments go after '--'"},
      {{"--conntrack-size", "100"}, "from 1024 to 16777216"},
      {{"--conntrack-timeout", "tcp_established"}, "'tcp_established' is not STATE=SECONDS"},
      {{"--conntrack-timeout", "tcp_bogus=10"}, "unknown state 'tcp_bogus' (one of tcp_syn_sent"},
      {{"--conntrack-timeout", "icmp=0"}, "'0' is not a number of seconds from 1 to 864000"},
      {{"--flow-cache-size", "-1"}, "from 0 to 16777216"},
      {{"--flow-cache-size", "16777217"}, "from 0 to 16777216"},
  };
  for (const auto& [args, expected] : cases) {
    std::string err;
    EXPECT_FALSE(parse(args, err)) << args[0];
    EXPECT_NE(err.find(expected), std::string::npos) << "got: " << err;
  }
}

TEST(DaemonOptions, ConntrackSizeAndTimeouts) {
  std::string err;
  auto o = parse({}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->dataplane.conntrack_capacity, 262144u);
  o = parse({"--dev"}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->dataplane.conntrack_capacity, 65536u);
  o = parse({"--dev", "--conntrack-size", "2048", "--conntrack-timeout", "tcp_established=3600",
             "--conntrack-timeout=udp_new=5"},
            err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->dataplane.conntrack_capacity, 2048u);
  EXPECT_EQ(o->dataplane.conntrack_timeouts.tcp_established, 3600u);
  EXPECT_EQ(o->dataplane.conntrack_timeouts.udp_new, 5u);
  EXPECT_EQ(o->dataplane.conntrack_timeouts.icmp, dp::ConnTimeouts{}.icmp);  // untouched
}

TEST(DaemonOptions, FlowCacheSize) {
  std::string err;
  auto o = parse({}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->dataplane.flow_cache_entries, 16384u);
  o = parse({"--flow-cache-size", "0"}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->dataplane.flow_cache_entries, 0u);  // off
  o = parse({"--flow-cache-size=65536"}, err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->dataplane.flow_cache_entries, 65536u);
}

TEST(DaemonOptions, HelpTellsEveryOption) {
  const std::string help = daemon_usage();
  for (const char* opt :
       {"--socket", "--dev", "--port", "--host-id", "--mbufs", "--rx-desc", "--tx-desc",
        "--exception-queue", "--idle-backoff", "--idle-polls", "--idle-sleep-max-us",
        "--conntrack-size", "--conntrack-timeout", "--flow-cache-size", "--version", "--help"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace dvr
