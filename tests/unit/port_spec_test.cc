// Port definitions (dataplane/port_spec.h): validation, DPDK device arguments, text parsing.

#include "port_spec.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dvr::dp {
namespace {

// `err` contains `part` (gtest only; gmock is not a dependency).
::testing::AssertionResult Contains(const std::string& err, const std::string& part) {
  if (err.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << err << "' does not contain '" << part << "'";
}

PortSpec spec(std::string name, PortType type, std::map<std::string, std::string> args = {},
              std::string xconnect = "") {
  PortSpec s;
  s.name = std::move(name);
  s.type = type;
  s.args = std::move(args);
  s.xconnect = std::move(xconnect);
  return s;
}

// A minimal valid spec of each type.
std::vector<PortSpec> valid_specs() {
  return {
      spec("vm1", PortType::kVhostUser, {{"path", "/run/dvr/vm1.sock"}}),
      spec("vm2", PortType::kTap),
      spec("up0", PortType::kAfPacket, {{"iface", "eth0"}}),
      spec("cap", PortType::kPcap, {{"rx_pcap", "/tmp/in.pcap"}}),
      spec("n0", PortType::kNull),
      spec("r0", PortType::kRing),
      spec("nic0", PortType::kPci, {{"dev", "0000:03:00.0"}}),
  };
}

// --- type names ------------------------------------------------------------------------------

TEST(PortType, NamesRoundTrip) {
  const std::vector<std::pair<PortType, std::string>> all = {
      {PortType::kVhostUser, "vhost-user"},
      {PortType::kTap, "tap"},
      {PortType::kAfPacket, "af-packet"},
      {PortType::kPcap, "pcap"},
      {PortType::kNull, "null"},
      {PortType::kRing, "ring"},
      {PortType::kPci, "pci"},
  };
  for (const auto& [type, name] : all) {
    EXPECT_EQ(port_type_name(type), name);
    EXPECT_EQ(parse_port_type(name), type) << name;
  }
}

TEST(PortType, UnderscoreAliasesAreAccepted) {
  EXPECT_EQ(parse_port_type("vhost_user"), PortType::kVhostUser);
  EXPECT_EQ(parse_port_type("af_packet"), PortType::kAfPacket);
}

TEST(PortType, UnknownNamesAreRejected) {
  for (const char* s :
       {"", "vhost", "VHOST-USER", "Tap", "tap ", "af-packet-x", "vhost-user_", "pci0", "vdev"}) {
    EXPECT_EQ(parse_port_type(s), std::nullopt) << "'" << s << "'";
  }
}

TEST(PortType, ListNamesEveryTypeInOrder) {
  EXPECT_EQ(port_type_list(), "vhost-user, tap, af-packet, pcap, null, ring, pci");
}

// --- validate_port_spec: valid specs ---------------------------------------------------------

TEST(ValidatePortSpec, MinimalSpecOfEveryTypeIsValid) {
  for (const auto& s : valid_specs()) {
    EXPECT_EQ(validate_port_spec(s), "") << port_type_name(s.type);
  }
}

TEST(ValidatePortSpec, EveryAllowedArgumentIsAccepted) {
  EXPECT_EQ(validate_port_spec(
                spec("t", PortType::kTap, {{"iface", "dvt1"}, {"mac", "02:00:00:00:00:01"}})),
            "");
  EXPECT_EQ(validate_port_spec(spec("p", PortType::kPcap,
                                    {{"rx_pcap", "/a"},
                                     {"tx_pcap", "/b"},
                                     {"rx_iface", "eth0"},
                                     {"rx_iface_in", "eth1"},
                                     {"tx_iface", "eth2"},
                                     {"iface", "eth3"},
                                     {"infinite_rx", "1"}})),
            "");
  EXPECT_EQ(validate_port_spec(
                spec("n", PortType::kNull, {{"size", "64"}, {"copy", "1"}, {"no-rx", "1"}})),
            "");
  EXPECT_EQ(validate_port_spec(spec("nic", PortType::kPci,
                                    {{"dev", "0000:03:00.0"}, {"devargs", "txq_inline=0"}})),
            "");
}

TEST(ValidatePortSpec, XconnectToAnotherPortIsValid) {
  EXPECT_EQ(validate_port_spec(spec("a", PortType::kNull, {}, "b")), "");
}

// --- names -----------------------------------------------------------------------------------

TEST(ValidatePortSpec, NameCharactersAndLength) {
  EXPECT_EQ(validate_port_spec(spec("aZ09_-.", PortType::kNull)), "");
  EXPECT_EQ(validate_port_spec(spec(std::string(32, 'n'), PortType::kNull)), "");

  const std::vector<std::string> bad_names = {
      "", std::string(33, 'n'), "vm 1", "a/b", "a,b", "a=b", "tab\t", "caf\xc3\xa9"};
  for (const auto& bad : bad_names) {
    const std::string err = validate_port_spec(spec(bad, PortType::kNull));
    EXPECT_TRUE(Contains(err, "invalid port name '" + bad + "'")) << "'" << bad << "'";
    EXPECT_TRUE(Contains(err, "1 to 32 characters"));
  }
}

// --- arguments -------------------------------------------------------------------------------

TEST(ValidatePortSpec, UnknownArgumentListsTheAllowedKeys) {
  const std::string err = validate_port_spec(spec("vm2", PortType::kTap, {{"path", "/x"}}));
  EXPECT_EQ(err, "port 'vm2': unknown argument 'path' for type tap (allowed: iface, mac)");

  EXPECT_TRUE(
      Contains(validate_port_spec(spec("nic", PortType::kPci, {{"dev", "03:00.0"}, {"x", "1"}})),
               "unknown argument 'x' for type pci (allowed: dev, devargs)"));
  EXPECT_TRUE(Contains(
      validate_port_spec(spec("vm1", PortType::kVhostUser, {{"path", "/s"}, {"queues", "4"}})),
      "unknown argument 'queues' for type vhost-user (allowed: path)"));
}

TEST(ValidatePortSpec, UnknownArgumentForTypeWithoutArguments) {
  EXPECT_EQ(validate_port_spec(spec("r0", PortType::kRing, {{"size", "1"}})),
            "port 'r0': unknown argument 'size' for type ring (it takes none)");
}

TEST(ValidatePortSpec, CommaOrEqualsInAValueIsRejected) {
  for (const std::string& v : std::vector<std::string>{"a,b", "a=b", ",", "=", "eth0,queues=8"}) {
    EXPECT_EQ(validate_port_spec(spec("up0", PortType::kAfPacket, {{"iface", v}})),
              "port 'up0': the value of 'iface' must not contain ',' or '='")
        << v;
  }
  EXPECT_TRUE(
      Contains(validate_port_spec(spec("vm1", PortType::kVhostUser, {{"path", "/tmp/a,b"}})),
               "must not contain"));
}

TEST(ValidatePortSpec, PciDevargsMayContainCommasAndEquals) {
  EXPECT_EQ(validate_port_spec(
                spec("nic", PortType::kPci, {{"dev", "0000:03:00.0"}, {"devargs", "a=1,b=2"}})),
            "");
  // ...but the address itself may not.
  EXPECT_TRUE(
      Contains(validate_port_spec(spec("nic", PortType::kPci, {{"dev", "0000:03:00.0,x=1"}})),
               "the value of 'dev' must not contain"));
}

TEST(ValidatePortSpec, EmptyValueIsRejected) {
  EXPECT_EQ(validate_port_spec(spec("vm2", PortType::kTap, {{"iface", ""}})),
            "port 'vm2': argument 'iface' has no value");
  EXPECT_EQ(validate_port_spec(spec("nic", PortType::kPci, {{"dev", "03:00.0"}, {"devargs", ""}})),
            "port 'nic': argument 'devargs' has no value");
}

TEST(ValidatePortSpec, MissingRequiredArgument) {
  EXPECT_EQ(validate_port_spec(spec("vm1", PortType::kVhostUser)),
            "port 'vm1': type vhost-user requires the argument 'path'");
  EXPECT_EQ(validate_port_spec(spec("up0", PortType::kAfPacket)),
            "port 'up0': type af-packet requires the argument 'iface'");
  EXPECT_EQ(validate_port_spec(spec("nic", PortType::kPci)),
            "port 'nic': type pci requires the argument 'dev'");
  EXPECT_EQ(validate_port_spec(spec("nic", PortType::kPci, {{"devargs", "a=1"}})),
            "port 'nic': type pci requires the argument 'dev'");
}

// --- PCI addresses ---------------------------------------------------------------------------

TEST(ValidatePortSpec, PciAddressForms) {
  for (const char* good : {"0000:03:00.0", "03:00.0", "0000:af:1F.7", "ffff:FF:ff.f"}) {
    EXPECT_EQ(validate_port_spec(spec("nic", PortType::kPci, {{"dev", good}})), "") << good;
  }
  for (const std::string& bad : std::vector<std::string>{
           "0000:03:00", "3:00.0", "0000:03:00.00", "00000:03:00.0", "0000-03-00.0", "0000:03:00:0",
           "zz:00.0", "0000:0g:00.0", "03.00.0", "eth0", "0000:03:00.0 "}) {
    EXPECT_EQ(validate_port_spec(spec("nic", PortType::kPci, {{"dev", bad}})),
              "port 'nic': '" + bad + "' is not a PCI address (expected DDDD:BB:DD.F)")
        << bad;
  }
}

// --- tap interface names ---------------------------------------------------------------------

TEST(ValidatePortSpec, TapInterfaceNameAtMost15Characters) {
  EXPECT_EQ(validate_port_spec(spec("vm2", PortType::kTap, {{"iface", std::string(15, 'i')}})), "");
  EXPECT_EQ(validate_port_spec(spec("vm2", PortType::kTap, {{"iface", std::string(16, 'i')}})),
            "port 'vm2': kernel interface names are at most 15 characters");
}

// --- xconnect --------------------------------------------------------------------------------

TEST(ValidatePortSpec, XconnectToItselfIsRejected) {
  EXPECT_EQ(validate_port_spec(spec("vm1", PortType::kNull, {}, "vm1")),
            "port 'vm1': a port cannot be cross-connected to itself");
}

TEST(ValidatePortSpec, XconnectPeerMustBeAValidName) {
  EXPECT_EQ(validate_port_spec(spec("vm1", PortType::kNull, {}, "bad peer")),
            "port 'vm1': invalid xconnect peer name 'bad peer'");
  EXPECT_TRUE(Contains(validate_port_spec(spec("vm1", PortType::kNull, {}, std::string(33, 'p'))),
                       "invalid xconnect peer name"));
}

// --- device_args -----------------------------------------------------------------------------

TEST(DeviceArgs, VhostUserPathBecomesIfaceAndQueuesAreAppended) {
  const auto d = device_args(spec("vm1", PortType::kVhostUser, {{"path", "/run/dvr/vm1.sock"}}), 4);
  EXPECT_EQ(d.device_name, "net_vhost_vm1");
  EXPECT_EQ(d.devargs, "net_vhost_vm1,iface=/run/dvr/vm1.sock,queues=4");
}

TEST(DeviceArgs, ZeroQueuesMeansOne) {
  EXPECT_EQ(device_args(spec("vm1", PortType::kVhostUser, {{"path", "/s"}}), 0).devargs,
            "net_vhost_vm1,iface=/s,queues=1");
  EXPECT_EQ(device_args(spec("up0", PortType::kAfPacket, {{"iface", "eth0"}}), 0).devargs,
            "net_af_packet_up0,iface=eth0,qpairs=1");
}

TEST(DeviceArgs, AfPacketGetsQpairs) {
  const auto d = device_args(spec("up0", PortType::kAfPacket, {{"iface", "eth0"}}), 2);
  EXPECT_EQ(d.device_name, "net_af_packet_up0");
  EXPECT_EQ(d.devargs, "net_af_packet_up0,iface=eth0,qpairs=2");
}

TEST(DeviceArgs, TapIsDriverUnderscoreNameWithArgsAndNoQueueCount) {
  const auto d = device_args(
      spec("vm1", PortType::kTap, {{"mac", "02:00:00:00:00:01"}, {"iface", "dvt1"}}), 8);
  EXPECT_EQ(d.device_name, "net_tap_vm1");
  EXPECT_EQ(d.devargs, "net_tap_vm1,iface=dvt1,mac=02:00:00:00:00:01");

  const auto bare = device_args(spec("vm1", PortType::kTap), 8);
  EXPECT_EQ(bare.device_name, "net_tap_vm1");
  EXPECT_EQ(bare.devargs, "net_tap_vm1");
}

TEST(DeviceArgs, OtherVdevTypes) {
  const auto pcap = device_args(
      spec("cap", PortType::kPcap, {{"rx_pcap", "/in.pcap"}, {"tx_pcap", "/o.pcap"}}), 2);
  EXPECT_EQ(pcap.device_name, "net_pcap_cap");
  EXPECT_EQ(pcap.devargs, "net_pcap_cap,rx_pcap=/in.pcap,tx_pcap=/o.pcap");

  const auto null = device_args(spec("n0", PortType::kNull, {{"size", "64"}}), 2);
  EXPECT_EQ(null.device_name, "net_null_n0");
  EXPECT_EQ(null.devargs, "net_null_n0,size=64");

  const auto ring = device_args(spec("r0", PortType::kRing), 2);
  EXPECT_EQ(ring.device_name, "net_ring_r0");
  EXPECT_EQ(ring.devargs, "net_ring_r0");
}

TEST(DeviceArgs, PciDeviceNameIsTheAddress) {
  const auto d = device_args(spec("nic0", PortType::kPci, {{"dev", "0000:03:00.0"}}), 4);
  EXPECT_EQ(d.device_name, "0000:03:00.0");
  EXPECT_EQ(d.devargs, "0000:03:00.0");
}

TEST(DeviceArgs, PciDevargsAreAppendedVerbatim) {
  const auto d = device_args(
      spec("nic0", PortType::kPci, {{"dev", "0000:03:00.0"}, {"devargs", "txq_inline=0,x=1"}}), 4);
  EXPECT_EQ(d.device_name, "0000:03:00.0");
  EXPECT_EQ(d.devargs, "0000:03:00.0,txq_inline=0,x=1");
}

// --- parse_port_spec_text --------------------------------------------------------------------

std::optional<PortSpec> parse(const std::string& text, std::string& err) {
  err = "untouched";
  return parse_port_spec_text(text, err);
}

TEST(ParsePortSpecText, FullDefinition) {
  std::string err;
  const auto s = parse("vm1=vhost-user,path=/run/vm1.sock,xconnect=vm2", err);
  ASSERT_TRUE(s.has_value()) << err;
  EXPECT_EQ(err, "");
  EXPECT_EQ(s->name, "vm1");
  EXPECT_EQ(s->type, PortType::kVhostUser);
  EXPECT_EQ(s->args, (std::map<std::string, std::string>{{"path", "/run/vm1.sock"}}));
  EXPECT_EQ(s->xconnect, "vm2");
}

TEST(ParsePortSpecText, TypeOnly) {
  std::string err;
  const auto s = parse("r0=ring", err);
  ASSERT_TRUE(s.has_value()) << err;
  EXPECT_EQ(s->name, "r0");
  EXPECT_EQ(s->type, PortType::kRing);
  EXPECT_TRUE(s->args.empty());
  EXPECT_EQ(s->xconnect, "");
}

TEST(ParsePortSpecText, UnderscoreAliases) {
  std::string err;
  const auto v = parse("vm1=vhost_user,path=/s", err);
  ASSERT_TRUE(v.has_value()) << err;
  EXPECT_EQ(v->type, PortType::kVhostUser);
  const auto a = parse("up0=af_packet,iface=eth0", err);
  ASSERT_TRUE(a.has_value()) << err;
  EXPECT_EQ(a->type, PortType::kAfPacket);
  EXPECT_EQ(a->args.at("iface"), "eth0");
}

TEST(ParsePortSpecText, MissingEquals) {
  std::string err;
  EXPECT_FALSE(parse("vm1", err).has_value());
  EXPECT_EQ(err, "port definition 'vm1' is not NAME=TYPE[,key=value...]");
}

TEST(ParsePortSpecText, NoType) {
  std::string err;
  EXPECT_FALSE(parse("vm1=", err).has_value());
  EXPECT_EQ(err, "port 'vm1': no type given (types: " + port_type_list() + ")");
}

TEST(ParsePortSpecText, UnknownTypeListsTheTypes) {
  std::string err;
  EXPECT_FALSE(parse("vm1=vhost,path=/s", err).has_value());
  EXPECT_EQ(err, "port 'vm1': unknown type 'vhost' (types: " + port_type_list() + ")");
}

TEST(ParsePortSpecText, ArgumentWithoutEquals) {
  std::string err;
  EXPECT_FALSE(parse("vm2=tap,iface", err).has_value());
  EXPECT_EQ(err, "port 'vm2': argument 'iface' is not key=value");
}

TEST(ParsePortSpecText, DuplicateKey) {
  std::string err;
  EXPECT_FALSE(parse("vm2=tap,iface=a,iface=b", err).has_value());
  EXPECT_EQ(err, "port 'vm2': argument 'iface' given twice");
}

TEST(ParsePortSpecText, ValidationErrorsAreReported) {
  std::string err;
  EXPECT_FALSE(parse("vm1=vhost-user", err).has_value());
  EXPECT_EQ(err, "port 'vm1': type vhost-user requires the argument 'path'");

  EXPECT_FALSE(parse("bad name=null", err).has_value());
  EXPECT_TRUE(Contains(err, "invalid port name 'bad name'"));

  EXPECT_FALSE(parse("=null", err).has_value());
  EXPECT_TRUE(Contains(err, "invalid port name ''"));

  EXPECT_FALSE(parse("vm1=null,xconnect=vm1", err).has_value());
  EXPECT_EQ(err, "port 'vm1': a port cannot be cross-connected to itself");

  EXPECT_FALSE(parse("nic=pci,dev=3:0.0", err).has_value());
  EXPECT_TRUE(Contains(err, "is not a PCI address"));

  EXPECT_FALSE(parse("vm2=tap,iface=", err).has_value());
  EXPECT_EQ(err, "port 'vm2': argument 'iface' has no value");
}

TEST(ParsePortSpecText, ValueWithEqualsIsRejectedByValidation) {
  // Only the first '=' of an item separates key and value; the rest stays in the value.
  std::string err;
  EXPECT_FALSE(parse("vm1=vhost-user,path=/a=b", err).has_value());
  EXPECT_EQ(err, "port 'vm1': the value of 'path' must not contain ',' or '='");
}

// "xconnect" is parsed apart from the driver arguments but must not slip past the duplicate-key
// check:
// "a=null,xconnect=b,xconnect=c" must not silently keep "c", nor may a repeated xconnect hide a
// self-loop ("a=null,xconnect=a,xconnect=b").
TEST(ParsePortSpecText, DuplicateXconnectIsRejected) {
  std::string err;
  EXPECT_FALSE(parse("a=null,xconnect=b,xconnect=c", err).has_value());
  EXPECT_TRUE(Contains(err, "given twice"));
}

TEST(ParsePortSpecText, PciWithDevargsOfOneKey) {
  std::string err;
  const auto s = parse("nic0=pci,dev=0000:03:00.0,devargs=txq_inline=0", err);
  ASSERT_TRUE(s.has_value()) << err;
  EXPECT_EQ(s->args.at("dev"), "0000:03:00.0");
  EXPECT_EQ(s->args.at("devargs"), "txq_inline=0");
  EXPECT_EQ(device_args(*s, 1).devargs, "0000:03:00.0,txq_inline=0");
}

TEST(ParsePortSpecText, ParsedSpecProducesTheExpectedDevargs) {
  std::string err;
  const auto s = parse("vm1=tap,iface=dvt1", err);
  ASSERT_TRUE(s.has_value()) << err;
  const auto d = device_args(*s, 1);
  EXPECT_EQ(d.device_name, "net_tap_vm1");
  EXPECT_EQ(d.devargs, "net_tap_vm1,iface=dvt1");
}

}  // namespace
}  // namespace dvr::dp

namespace dvr::dp {
namespace {

TEST(DeviceArgsPci, ShortAndUpperCaseAddressesBecomeDpdksCanonicalName) {
  PortSpec s{"nic0", PortType::kPci, {{"dev", "AF:00.1"}}, {}};
  ASSERT_EQ(validate_port_spec(s), "");
  EXPECT_EQ(device_args(s, 1).device_name, "0000:af:00.1");
  EXPECT_EQ(device_args(s, 1).devargs, "0000:af:00.1");
}

TEST(ParsePortSpecTextEmpty, EmptyItemsAndEmptyXconnectAreRejected) {
  std::string err;
  EXPECT_FALSE(parse_port_spec_text("a=tap,", err));
  EXPECT_NE(err.find("stray ','"), std::string::npos) << err;
  EXPECT_FALSE(parse_port_spec_text("a=tap,,iface=x", err));
  EXPECT_NE(err.find("stray ','"), std::string::npos) << err;
  EXPECT_FALSE(parse_port_spec_text("a=tap,=x", err));
  EXPECT_NE(err.find("empty key"), std::string::npos) << err;
  EXPECT_FALSE(parse_port_spec_text("a=null,xconnect=", err));
  EXPECT_NE(err.find("'xconnect' has no value"), std::string::npos) << err;
}

TEST(ValidateKernelIface, AfPacketInterfaceNamesAreLimitedLikeTap) {
  PortSpec s{"p", PortType::kAfPacket, {{"iface", "a-very-long-ifname"}}, {}};
  EXPECT_NE(validate_port_spec(s).find("at most 15 characters"), std::string::npos);
}

}  // namespace
}  // namespace dvr::dp
