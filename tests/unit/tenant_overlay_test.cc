// The tenant model's overlay rules (control/tenant/tenant_model.h): the host's uplink, tunnel
// address and underlay routes, remote hosts, VM ports on other hosts, per-network BUM flooding,
// and the cascades and transactions around them. Pure code: no EAL, no dataplane.
#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model_assertions.h"
#include "tenant_model.h"

namespace dvr {
namespace {

namespace v1 = api::v1;

// --- Object builders -------------------------------------------------------------------------

v1::Object MakeNetwork(const std::string& id, uint32_t segmentation_id,
                       v1::BumFlooding flooding = v1::BUM_FLOODING_ALL_HOSTS,
                       const std::vector<std::string>& flood_hosts = {}) {
  v1::Object o;
  v1::Network* n = o.mutable_network();
  n->set_id(id);
  n->set_tenant_id("tenant");
  n->set_segmentation_id(segmentation_id);
  n->set_bum_flooding(flooding);
  for (const auto& h : flood_hosts) n->add_bum_flood_hosts(h);
  return o;
}

v1::Object MakeSubnet(const std::string& id, const std::string& network, const std::string& cidr) {
  v1::Object o;
  v1::Subnet* s = o.mutable_subnet();
  s->set_id(id);
  s->set_network_id(network);
  s->set_cidr(cidr);
  return o;
}

v1::Object MakePort(const std::string& id, const std::string& network, const std::string& mac,
                    const std::vector<std::string>& ips, const std::string& dataplane_port,
                    const std::string& host_id) {
  v1::Object o;
  v1::VmPort* p = o.mutable_vm_port();
  p->set_id(id);
  p->set_network_id(network);
  p->set_mac(mac);
  for (const auto& ip : ips) p->add_fixed_ips(ip);
  p->set_dataplane_port(dataplane_port);
  p->set_host_id(host_id);
  return o;
}

v1::Object MakeRemoteHost(const std::string& id, const std::string& tunnel_ip,
                          const std::string& dvr_mac) {
  v1::Object o;
  v1::RemoteHost* h = o.mutable_remote_host();
  h->set_host_id(id);
  h->set_tunnel_ip(tunnel_ip);
  h->set_dvr_mac(dvr_mac);
  return o;
}

// This host: hv1 with its uplink "uplink0" on 192.0.2.0/24.
constexpr const char* kHostId = "hv1";
constexpr const char* kUplink = "uplink0";
constexpr const char* kTunnelIp = "192.0.2.10";
constexpr const char* kDvrMac = "fa:16:3f:00:00:01";

v1::HostIdentity OverlayHost() {
  v1::HostIdentity h;
  h.set_host_id(kHostId);
  h.set_distributed_default(true);
  h.set_uplink_port(kUplink);
  h.set_tunnel_ip(kTunnelIp);
  h.set_tunnel_prefix_length(24);
  h.set_dvr_mac(kDvrMac);
  return h;
}

v1::UnderlayRoute* AddRoute(v1::HostIdentity& h, const std::string& dst, const std::string& nh) {
  v1::UnderlayRoute* r = h.add_underlay_routes();
  r->set_destination(dst);
  r->set_nexthop(nh);
  return r;
}

// --- Assertions ------------------------------------------------------------------------------

using test::IsError;
using test::IsOk;

constexpr v1::ObjectKind kKinds[] = {
    v1::OBJECT_KIND_ROUTER,           v1::OBJECT_KIND_NETWORK,        v1::OBJECT_KIND_SUBNET,
    v1::OBJECT_KIND_ROUTER_INTERFACE, v1::OBJECT_KIND_VM_PORT,        v1::OBJECT_KIND_STATIC_ROUTE,
    v1::OBJECT_KIND_NETWORK_ACL,      v1::OBJECT_KIND_SECURITY_GROUP, v1::OBJECT_KIND_REMOTE_HOST,
};

class TenantOverlayTest : public ::testing::Test {
 protected:
  std::optional<ModelError> Upsert(const std::vector<v1::Object>& objs, bool replace = false) {
    google::protobuf::RepeatedPtrField<v1::Object> batch;
    for (const auto& o : objs) *batch.Add() = o;
    return model_.upsert(batch, replace);
  }
  std::optional<ModelError> Remove(v1::ObjectKind kind, const std::string& id, bool cascade = false,
                                   bool missing_ok = false) {
    return model_.remove(kind, id, cascade, missing_ok);
  }

  // Everything list() reports, and the host identity, for "the model did not change" checks.
  std::string Snapshot() const {
    std::string out = "host:\n" + model_.host().DebugString();
    for (v1::ObjectKind k : kKinds) {
      out += v1::ObjectKind_Name(k) + ":\n" + model_.list(k).DebugString();
    }
    return out;
  }
  size_t Count(v1::ObjectKind kind) const {
    return static_cast<size_t>(model_.list(kind).objects_size());
  }

  // This host with the overlay, remote hosts hv2 (on-link) and hv3 (routed), and network n1
  // (VNI 100, 10.0.0.0/24) with a local port p-local and a port p-hv2 on hv2.
  void Populate() {
    v1::HostIdentity h = OverlayHost();
    AddRoute(h, "198.51.100.0/24", "192.0.2.1");
    ASSERT_TRUE(IsOk(model_.set_host(h)));
    ASSERT_TRUE(
        IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02"),
                     MakeRemoteHost("hv3", "198.51.100.30", "fa:16:3f:00:00:03"),
                     MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24"),
                     MakePort("p-local", "n1", "fa:16:3e:00:00:10", {"10.0.0.10"}, "vm1", ""),
                     MakePort("p-hv2", "n1", "fa:16:3e:00:00:20", {"10.0.0.20"}, "", "hv2")})));
  }

  TenantModel model_;
};

// --- The host's overlay fields ---------------------------------------------------------------

TEST_F(TenantOverlayTest, CompleteOverlayHostIsAccepted) {
  v1::HostIdentity h = OverlayHost();
  h.set_dvr_mac("FA:16:3F:00:00:01");
  h.set_vxlan_udp_port(8472);
  AddRoute(h, "198.51.100.0/24", "192.0.2.1");
  AddRoute(h, "0.0.0.0/0", "192.0.2.254");
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_EQ(model_.host().uplink_port(), kUplink);
  EXPECT_EQ(model_.host().tunnel_ip(), kTunnelIp);
  EXPECT_EQ(model_.host().tunnel_prefix_length(), 24u);
  EXPECT_EQ(model_.host().dvr_mac(), kDvrMac);  // normalized
  EXPECT_EQ(model_.host().vxlan_udp_port(), 8472u);
  ASSERT_EQ(model_.host().underlay_routes_size(), 2);
  EXPECT_EQ(model_.host().underlay_routes(0).destination(), "198.51.100.0/24");
  EXPECT_EQ(model_.host().underlay_routes(0).nexthop(), "192.0.2.1");
  EXPECT_EQ(model_.host().underlay_routes(1).destination(), "0.0.0.0/0");
  // The same identity again is fine, and clearing the overlay (none of its fields) too.
  EXPECT_TRUE(IsOk(model_.set_host(h)));
  v1::HostIdentity none;
  none.set_host_id(kHostId);
  EXPECT_TRUE(IsOk(model_.set_host(none)));
  EXPECT_TRUE(model_.host().uplink_port().empty());
  EXPECT_EQ(model_.host().underlay_routes_size(), 0);
}

TEST_F(TenantOverlayTest, OverlayFieldsComeTogether) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  // Refused, saying what the overlay needs and exactly which of it is missing.
  auto expect_refused = [&](const v1::HostIdentity& h, const std::string& missing) {
    EXPECT_TRUE(
        IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                {"uplink port", "tunnel IP", "prefix length", "DVR MAC", "missing: " + missing}))
        << missing;
    EXPECT_EQ(Snapshot(), before) << missing;
  };
  v1::HostIdentity h = OverlayHost();
  h.clear_uplink_port();
  // Without an uplink, a prefix length alone still asks for the overlay.
  expect_refused(h, "an uplink port");
  h = OverlayHost();
  h.clear_tunnel_ip();
  expect_refused(h, "a tunnel IP");
  h = OverlayHost();
  h.clear_tunnel_prefix_length();
  expect_refused(h, "the tunnel IP's prefix length");
  h = OverlayHost();
  h.clear_dvr_mac();
  expect_refused(h, "a DVR MAC");
  h = OverlayHost();
  h.clear_tunnel_ip();
  h.clear_dvr_mac();
  h.clear_tunnel_prefix_length();
  expect_refused(h, "a tunnel IP, the tunnel IP's prefix length and a DVR MAC");
  // Underlay routes alone are overlay configuration too.
  h = v1::HostIdentity();
  h.set_host_id(kHostId);
  AddRoute(h, "198.51.100.0/24", "192.0.2.1");
  expect_refused(h, "an uplink port, a tunnel IP, the tunnel IP's prefix length and a DVR MAC");
  // A tunnel IP and DVR MAC alone are not the overlay (they predate it): accepted.
  h = v1::HostIdentity();
  h.set_host_id(kHostId);
  h.set_tunnel_ip(kTunnelIp);
  h.set_dvr_mac(kDvrMac);
  EXPECT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_TRUE(model_.host().uplink_port().empty());
}

TEST_F(TenantOverlayTest, TunnelPrefixLengthIsOneToThirtyTwo) {
  for (uint32_t len : {1u, 8u, 31u, 32u}) {
    v1::HostIdentity h = OverlayHost();
    h.set_tunnel_prefix_length(len);
    EXPECT_TRUE(IsOk(model_.set_host(h))) << len;
    EXPECT_EQ(model_.host().tunnel_prefix_length(), len);
  }
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  for (uint32_t len : {33u, 64u, 255u, 4294967295u}) {
    v1::HostIdentity h = OverlayHost();
    h.set_tunnel_prefix_length(len);
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                        {"tunnel prefix length", std::to_string(len), "1..32"}))
        << len;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantOverlayTest, UnderlayRouteNextHopIsAnotherAddressOnTheUplinkSubnet) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  for (const char* nh : {"192.0.3.1", "10.0.0.1", "198.51.100.1", "192.0.2.10", "", "gateway",
                         "192.0.2.256", "192.0.2.01"}) {
    v1::HostIdentity h = OverlayHost();
    AddRoute(h, "198.51.100.0/24", nh);
    EXPECT_TRUE(IsError(
        model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
        {"underlay route 198.51.100.0/24", "next hop '" + std::string(nh) + "'", "192.0.2.0/24"}))
        << nh;
  }
  // The subnet is the tunnel IP's, masked: a /28 around .10 excludes .20.
  v1::HostIdentity h = OverlayHost();
  h.set_tunnel_prefix_length(28);
  AddRoute(h, "198.51.100.0/24", "192.0.2.20");
  EXPECT_TRUE(
      IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT, {"'192.0.2.20'", "192.0.2.0/28"}));
  // One bad route among good ones refuses the whole identity.
  h = OverlayHost();
  AddRoute(h, "198.51.100.0/24", "192.0.2.1");
  AddRoute(h, "203.0.113.0/24", "192.0.3.1");
  EXPECT_TRUE(
      IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT, {"203.0.113.0/24", "'192.0.3.1'"}));
  EXPECT_EQ(Snapshot(), before);
  // Inside the subnet and not the tunnel IP: fine, at either end of a /28 too.
  h = OverlayHost();
  h.set_tunnel_prefix_length(28);
  AddRoute(h, "198.51.100.0/24", "192.0.2.1");
  AddRoute(h, "203.0.113.0/24", "192.0.2.14");
  EXPECT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_EQ(model_.host().underlay_routes_size(), 2);
}

TEST_F(TenantOverlayTest, UnderlayRouteDestinationIsANormalizedPrefix) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  for (const char* dst : {"198.51.100.1/24", "0.0.0.1/0", "198.51.100.0/33", "198.51.100.0/", "",
                          "default", "198.51.100/24", "::/0"}) {
    v1::HostIdentity h = OverlayHost();
    AddRoute(h, dst, "192.0.2.1");
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                        {"underlay route '" + std::string(dst) + "'", "host bits zero"}))
        << dst;
  }
  EXPECT_EQ(Snapshot(), before);
  // A bare address is a /32; a zero-padded length is the same prefix; both stored canonically.
  v1::HostIdentity h = OverlayHost();
  AddRoute(h, "198.51.100.7", "192.0.2.1");
  AddRoute(h, "203.0.113.0/024", "192.0.2.2");
  AddRoute(h, "0.0.0.0/0", "192.0.2.3");
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  ASSERT_EQ(model_.host().underlay_routes_size(), 3);
  EXPECT_EQ(model_.host().underlay_routes(0).destination(), "198.51.100.7/32");
  EXPECT_EQ(model_.host().underlay_routes(1).destination(), "203.0.113.0/24");
  EXPECT_EQ(model_.host().underlay_routes(2).destination(), "0.0.0.0/0");
  // What the model stores is accepted back unchanged.
  const v1::HostIdentity stored = model_.host();
  EXPECT_TRUE(IsOk(model_.set_host(stored)));
  EXPECT_EQ(model_.host().DebugString(), stored.DebugString());
}

TEST_F(TenantOverlayTest, VxlanUdpPortRange) {
  for (uint32_t port : {0u, 1u, 4789u, 8472u, 65535u}) {
    v1::HostIdentity h = OverlayHost();
    h.set_vxlan_udp_port(port);
    EXPECT_TRUE(IsOk(model_.set_host(h))) << port;
    EXPECT_EQ(model_.host().vxlan_udp_port(), port);
  }
  const std::string before = Snapshot();
  for (uint32_t port : {65536u, 100000u, 4294967295u}) {
    v1::HostIdentity h = OverlayHost();
    h.set_vxlan_udp_port(port);
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                        {"VXLAN UDP port", std::to_string(port)}))
        << port;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantOverlayTest, UplinkCannotBeAVmPortsDataplanePort) {
  Populate();
  const std::string before = Snapshot();
  // A VM port attached to the uplink.
  EXPECT_TRUE(
      IsError(Upsert({MakePort("p-up", "n1", "fa:16:3e:00:00:30", {"10.0.0.30"}, kUplink, "")}),
              v1::STATUS_CONFLICT, {"'p-up'", "'uplink0'", "uplink"}));
  // The uplink moved onto a VM's dataplane port.
  v1::HostIdentity h = model_.host();
  h.set_uplink_port("vm1");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT, {"'p-local'", "'vm1'", "uplink"}));
  EXPECT_EQ(Snapshot(), before);
}

// --- Remote hosts ----------------------------------------------------------------------------

TEST_F(TenantOverlayTest, RemoteHostNeedsAnIdAUnicastMacAndAnIpv4Address) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("", "192.0.2.20", "fa:16:3f:00:00:02")}),
                      v1::STATUS_INVALID_ARGUMENT, {"remote host", "host id"}));
  for (const char* mac : {"", "fa:16:3f:00:00", "fa-16-3f-00-00-02", "zz:16:3f:00:00:02",
                          "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"}) {
    EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv2", "192.0.2.20", mac)}),
                        v1::STATUS_INVALID_ARGUMENT,
                        {"remote host 'hv2'", "DVR MAC", "'" + std::string(mac) + "'"}))
        << mac;
  }
  for (const char* ip : {"", "192.0.2.256", "192.0.2", "192.0.2.20/24", "192.0.2.020", "hv2"}) {
    EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv2", ip, "fa:16:3f:00:00:02")}),
                        v1::STATUS_INVALID_ARGUMENT,
                        {"remote host 'hv2'", "tunnel IP", "'" + std::string(ip) + "'"}))
        << ip;
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(model_.remote_hosts().empty());
}

TEST_F(TenantOverlayTest, RemoteHostIsNormalizedAndIdempotent) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "FA:16:3F:0A:BB:02")})));
  ASSERT_TRUE(model_.remote_hosts().contains("hv2"));
  EXPECT_EQ(model_.remote_hosts().at("hv2").dvr_mac(), "fa:16:3f:0a:bb:02");
  EXPECT_EQ(model_.remote_hosts().at("hv2").tunnel_ip(), "192.0.2.20");
  const std::string before = Snapshot();
  // The same host again, in either spelling, is the identical object.
  EXPECT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "FA:16:3F:0A:BB:02")})));
  EXPECT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:0a:bb:02")})));
  EXPECT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "Fa:16:3f:0A:bB:02")})));
  EXPECT_EQ(Snapshot(), before);
  // A different one needs replace.
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv2", "192.0.2.21", "fa:16:3f:0a:bb:02")}),
                      v1::STATUS_ALREADY_EXISTS, {"remote host 'hv2'", "replace"}));
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:0a:bb:03")}),
                      v1::STATUS_ALREADY_EXISTS, {"remote host 'hv2'", "replace"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(
      IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.21", "FA:16:3F:0A:BB:03")}, /*replace=*/true)));
  EXPECT_EQ(model_.remote_hosts().at("hv2").tunnel_ip(), "192.0.2.21");
  EXPECT_EQ(model_.remote_hosts().at("hv2").dvr_mac(), "fa:16:3f:0a:bb:03");
  EXPECT_EQ(model_.remote_hosts().size(), 1u);
}

TEST_F(TenantOverlayTest, RemoteHostTunnelIpsAndMacsAreUnique) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02")})));
  const std::string before = Snapshot();
  // Another remote host's tunnel IP or DVR MAC (MAC in another spelling).
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv3", "192.0.2.20", "fa:16:3f:00:00:03")}),
                      v1::STATUS_CONFLICT, {"'hv2'", "'hv3'", "192.0.2.20"}));
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv3", "192.0.2.30", "FA:16:3F:00:00:02")}),
                      v1::STATUS_CONFLICT, {"'hv2'", "'hv3'", "fa:16:3f:00:00:02"}));
  // Two new hosts in one batch clash with each other.
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv3", "192.0.2.30", "fa:16:3f:00:00:03"),
                              MakeRemoteHost("hv4", "192.0.2.30", "fa:16:3f:00:00:04")}),
                      v1::STATUS_CONFLICT, {"'hv3'", "'hv4'", "192.0.2.30"}));
  // This host's own tunnel IP or DVR MAC.
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv3", kTunnelIp, "fa:16:3f:00:00:03")}),
                      v1::STATUS_CONFLICT, {"'hv3'", "this host's tunnel IP", kTunnelIp}));
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv3", "192.0.2.30", "FA:16:3F:00:00:01")}),
                      v1::STATUS_CONFLICT, {"'hv3'", "this host's DVR MAC", kDvrMac}));
  // Replacing hv2 with the values it already has is not a clash with itself.
  EXPECT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02")}, true)));
  EXPECT_EQ(Snapshot(), before);
  // Swapping two hosts' addresses in one batch is fine: only the result is checked.
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv3", "192.0.2.30", "fa:16:3f:00:00:03")})));
  EXPECT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.30", "fa:16:3f:00:00:02"),
                           MakeRemoteHost("hv3", "192.0.2.20", "fa:16:3f:00:00:03")},
                          true)));
  EXPECT_EQ(model_.remote_hosts().at("hv2").tunnel_ip(), "192.0.2.30");
}

TEST_F(TenantOverlayTest, ThisHostCannotTakeARemoteHostsAddresses) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02")})));
  const std::string before = Snapshot();
  v1::HostIdentity h = OverlayHost();
  h.set_tunnel_ip("192.0.2.20");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT,
                      {"'hv2'", "this host's tunnel IP", "192.0.2.20"}));
  h = OverlayHost();
  h.set_dvr_mac("FA:16:3F:00:00:02");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT,
                      {"'hv2'", "this host's DVR MAC", "fa:16:3f:00:00:02"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantOverlayTest, RemoteHostIdIsNotThisHostsId) {
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost(kHostId, "192.0.2.20", "fa:16:3f:00:00:02")}),
                      v1::STATUS_CONFLICT, {"remote host 'hv1'", "this host's own host id"}));
  EXPECT_EQ(Snapshot(), before);
  // Nor can this host rename itself to a remote host's id.
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02")})));
  const std::string with_hv2 = Snapshot();
  v1::HostIdentity h = OverlayHost();
  h.set_host_id("hv2");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT, {"remote host 'hv2'", "host id"}));
  EXPECT_EQ(Snapshot(), with_hv2);
}

TEST_F(TenantOverlayTest, RemoteHostsWithoutAnOverlayHost) {
  // Remote hosts can be declared before this host's overlay is configured; the overlay then
  // must not take their addresses.
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02")})));
  EXPECT_TRUE(IsOk(model_.set_host(OverlayHost())));
}

TEST_F(TenantOverlayTest, ListRemoteHostsRoundTrip) {
  Populate();
  const v1::ObjectList listed = model_.list(v1::OBJECT_KIND_REMOTE_HOST);
  ASSERT_EQ(listed.objects_size(), 2);
  EXPECT_EQ(listed.objects(0).remote_host().host_id(), "hv2");
  EXPECT_EQ(listed.objects(0).remote_host().tunnel_ip(), "192.0.2.20");
  EXPECT_EQ(listed.objects(0).remote_host().dvr_mac(), "fa:16:3f:00:00:02");
  EXPECT_EQ(listed.objects(1).remote_host().host_id(), "hv3");
  // Sending back what was listed is idempotent...
  const std::string before = Snapshot();
  EXPECT_TRUE(IsOk(model_.upsert(listed.objects(), /*replace=*/false)));
  EXPECT_EQ(Snapshot(), before);
  // ... and rebuilds the same remote hosts in an empty model.
  TenantModel other;
  ASSERT_TRUE(IsOk(other.set_host(model_.host())));
  ASSERT_TRUE(IsOk(other.upsert(listed.objects(), false)));
  EXPECT_EQ(other.list(v1::OBJECT_KIND_REMOTE_HOST).DebugString(), listed.DebugString());
  // Remote hosts are not listed under other kinds, nor others under theirs.
  EXPECT_EQ(model_.list(v1::OBJECT_KIND_NETWORK).objects_size(), 1);
  for (const auto& o : listed.objects()) EXPECT_TRUE(o.has_remote_host());
}

// --- VM ports on other hosts -----------------------------------------------------------------

TEST_F(TenantOverlayTest, VmPortOnAnUnknownRemoteHostIsNotFound) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(
      IsError(Upsert({MakePort("p-x", "n1", "fa:16:3e:00:00:30", {"10.0.0.30"}, "", "ghost")}),
              v1::STATUS_NOT_FOUND, {"'p-x'", "'ghost'", "remote host"}));
  EXPECT_EQ(Snapshot(), before);
  // With the host in the same batch (in any order), it is fine.
  EXPECT_TRUE(IsOk(Upsert({MakePort("p-x", "n1", "fa:16:3e:00:00:30", {"10.0.0.30"}, "", "hv4"),
                           MakeRemoteHost("hv4", "192.0.2.40", "fa:16:3f:00:00:04")})));
  ASSERT_NE(model_.remote_host_of(model_.vm_ports().at("p-x")), nullptr);
  EXPECT_EQ(model_.remote_host_of(model_.vm_ports().at("p-x"))->host_id(), "hv4");
}

TEST_F(TenantOverlayTest, WhereAVmPortLives) {
  Populate();
  // On hv2.
  const v1::RemoteHost* h = model_.remote_host_of(model_.vm_ports().at("p-hv2"));
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->host_id(), "hv2");
  EXPECT_EQ(h->tunnel_ip(), "192.0.2.20");
  // Local.
  EXPECT_EQ(model_.remote_host_of(model_.vm_ports().at("p-local")), nullptr);
  // Naming this host, with or without a dataplane port: local, and needs no remote host entry.
  ASSERT_TRUE(
      IsOk(Upsert({MakePort("p-own", "n1", "fa:16:3e:00:00:31", {"10.0.0.31"}, "vm2", kHostId),
                   MakePort("p-own2", "n1", "fa:16:3e:00:00:32", {"10.0.0.32"}, "", kHostId)})));
  EXPECT_EQ(model_.remote_host_of(model_.vm_ports().at("p-own")), nullptr);
  EXPECT_EQ(model_.remote_host_of(model_.vm_ports().at("p-own2")), nullptr);
  // Nowhere in particular (unbound, no host): no remote host either.
  ASSERT_TRUE(IsOk(Upsert({MakePort("p-none", "n1", "fa:16:3e:00:00:33", {"10.0.0.33"}, "", "")})));
  EXPECT_EQ(model_.remote_host_of(model_.vm_ports().at("p-none")), nullptr);
}

TEST_F(TenantOverlayTest, VmPortCannotBeBothHereAndOnARemoteHost) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(
      IsError(Upsert({MakePort("p-both", "n1", "fa:16:3e:00:00:30", {"10.0.0.30"}, "vm2", "hv2")}),
              v1::STATUS_INVALID_ARGUMENT, {"'p-both'", "'vm2'", "'hv2'"}));
  // Even when the named host is unknown, the contradiction is what is reported.
  EXPECT_TRUE(IsError(
      Upsert({MakePort("p-both", "n1", "fa:16:3e:00:00:30", {"10.0.0.30"}, "vm2", "ghost")}),
      v1::STATUS_INVALID_ARGUMENT, {"'p-both'", "'vm2'", "'ghost'"}));
  // Moving an existing local port to hv2 without unbinding it.
  v1::Object moved = MakePort("p-local", "n1", "fa:16:3e:00:00:10", {"10.0.0.10"}, "vm1", "hv2");
  EXPECT_TRUE(IsError(Upsert({moved}, true), v1::STATUS_INVALID_ARGUMENT, {"'p-local'", "'hv2'"}));
  EXPECT_EQ(Snapshot(), before);
  // Unbinding it at the same time is a live migration to hv2.
  moved.mutable_vm_port()->clear_dataplane_port();
  EXPECT_TRUE(IsOk(Upsert({moved}, true)));
  EXPECT_EQ(model_.remote_host_of(model_.vm_ports().at("p-local"))->host_id(), "hv2");
}

TEST_F(TenantOverlayTest, ChangingThisHostsIdRevalidatesItsPorts) {
  Populate();
  ASSERT_TRUE(
      IsOk(Upsert({MakePort("p-own", "n1", "fa:16:3e:00:00:31", {"10.0.0.31"}, "vm2", kHostId)})));
  const std::string before = Snapshot();
  // p-own is bound here and says it lives on hv1: this host cannot stop being hv1.
  v1::HostIdentity h = model_.host();
  h.set_host_id("hv9");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT, {"'p-own'", "'hv1'"}));
  EXPECT_EQ(Snapshot(), before);
}

// --- Networks' BUM flooding ------------------------------------------------------------------

TEST_F(TenantOverlayTest, ListedFloodHostsMustExist) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n2", 200, v1::BUM_FLOODING_LISTED, {"hv2", "ghost"})}),
                      v1::STATUS_NOT_FOUND, {"network 'n2'", "'ghost'"}));
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 100, v1::BUM_FLOODING_LISTED, {"ghost"})}, true),
                      v1::STATUS_NOT_FOUND, {"network 'n1'", "'ghost'"}));
  // This host is not a remote host either.
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n2", 200, v1::BUM_FLOODING_LISTED, {kHostId})}),
                      v1::STATUS_NOT_FOUND, {"network 'n2'", "'hv1'"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200, v1::BUM_FLOODING_LISTED, {"hv2", "hv3"})})));
  EXPECT_EQ(model_.networks().at("n2").bum_flood_hosts_size(), 2);
  EXPECT_EQ(model_.networks().at("n2").bum_flooding(), v1::BUM_FLOODING_LISTED);
  // LISTED with an empty list is allowed (floods to nobody else).
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n3", 300, v1::BUM_FLOODING_LISTED)})));
  // In one batch with the remote host it names, in any order.
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n4", 400, v1::BUM_FLOODING_LISTED, {"hv5"}),
                           MakeRemoteHost("hv5", "192.0.2.50", "fa:16:3f:00:00:05")})));
}

TEST_F(TenantOverlayTest, FloodHostsNeedTheListedMode) {
  Populate();
  const std::string before = Snapshot();
  for (v1::BumFlooding mode : {v1::BUM_FLOODING_ALL_HOSTS, v1::BUM_FLOODING_OFF}) {
    EXPECT_TRUE(IsError(Upsert({MakeNetwork("n2", 200, mode, {"hv2"})}),
                        v1::STATUS_INVALID_ARGUMENT, {"network 'n2'", "BUM flood hosts"}))
        << v1::BumFlooding_Name(mode);
  }
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200, v1::BUM_FLOODING_OFF)})));
}

TEST_F(TenantOverlayTest, UnknownFloodingModeIsRefused) {
  Populate();
  const std::string before = Snapshot();
  for (int mode : {3, 99, -1}) {
    v1::Object n = MakeNetwork("n2", 200);
    n.mutable_network()->set_bum_flooding(static_cast<v1::BumFlooding>(mode));
    EXPECT_TRUE(IsError(Upsert({n}), v1::STATUS_INVALID_ARGUMENT,
                        {"network 'n2'", "BUM flooding", std::to_string(mode)}))
        << mode;
    // Also as a change to an existing network, with replace.
    v1::Object n1 = MakeNetwork("n1", 100);
    n1.mutable_network()->set_bum_flooding(static_cast<v1::BumFlooding>(mode));
    EXPECT_TRUE(IsError(Upsert({n1}, true), v1::STATUS_INVALID_ARGUMENT,
                        {"network 'n1'", "BUM flooding", std::to_string(mode)}))
        << mode;
  }
  EXPECT_EQ(Snapshot(), before);
}

// --- Removing remote hosts -------------------------------------------------------------------

TEST_F(TenantOverlayTest, RemovingARemoteHostWithVmPortsConflicts) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2"), v1::STATUS_CONFLICT,
                      {"remote host 'hv2'", "VM port", "'p-hv2'", "cascade"}));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2", false, /*missing_ok=*/true),
                      v1::STATUS_CONFLICT, {"remote host 'hv2'", "'p-hv2'"}));
  EXPECT_EQ(Snapshot(), before);
  // hv3 hosts nothing: it goes.
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv3")));
  EXPECT_FALSE(model_.remote_hosts().contains("hv3"));
  EXPECT_TRUE(model_.remote_hosts().contains("hv2"));
}

TEST_F(TenantOverlayTest, RemovingARemoteHostInAFloodListConflicts) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200, v1::BUM_FLOODING_LISTED, {"hv3"})})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv3"), v1::STATUS_CONFLICT,
                      {"remote host 'hv3'", "network 'n2'", "cascade"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantOverlayTest, CascadeRemovesVmPortsAndStripsFloodLists) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({
      MakeNetwork("n2", 200, v1::BUM_FLOODING_LISTED, {"hv3", "hv2"}),
      MakeNetwork("n3", 300, v1::BUM_FLOODING_LISTED, {"hv2"}),
      MakeSubnet("s2", "n2", "10.0.2.0/24"),
      MakePort("p2-hv2", "n2", "fa:16:3e:00:00:21", {"10.0.2.21"}, "", "hv2"),
      MakePort("p2-hv3", "n2", "fa:16:3e:00:00:22", {"10.0.2.22"}, "", "hv3"),
      MakePort("p2-local", "n2", "fa:16:3e:00:00:23", {"10.0.2.23"}, "vm2", ""),
  })));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2", /*cascade=*/true)));
  EXPECT_FALSE(model_.remote_hosts().contains("hv2"));
  EXPECT_TRUE(model_.remote_hosts().contains("hv3"));
  // hv2's ports are gone, the others stay.
  EXPECT_FALSE(model_.vm_ports().contains("p-hv2"));
  EXPECT_FALSE(model_.vm_ports().contains("p2-hv2"));
  EXPECT_TRUE(model_.vm_ports().contains("p2-hv3"));
  EXPECT_TRUE(model_.vm_ports().contains("p-local"));
  EXPECT_TRUE(model_.vm_ports().contains("p2-local"));
  // hv2 is struck from the flood lists; the networks keep their mode and other hosts.
  const v1::Network& n2 = model_.networks().at("n2");
  EXPECT_EQ(n2.bum_flooding(), v1::BUM_FLOODING_LISTED);
  ASSERT_EQ(n2.bum_flood_hosts_size(), 1);
  EXPECT_EQ(n2.bum_flood_hosts(0), "hv3");
  EXPECT_EQ(model_.networks().at("n3").bum_flooding(), v1::BUM_FLOODING_LISTED);
  EXPECT_EQ(model_.networks().at("n3").bum_flood_hosts_size(), 0);
  EXPECT_EQ(model_.networks().at("n1").bum_flood_hosts_size(), 0);
  // The result is a consistent model: hv2 can come back, and what is listed can be re-sent.
  EXPECT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02")})));
  const std::string after = Snapshot();
  EXPECT_TRUE(IsOk(model_.upsert(model_.list(v1::OBJECT_KIND_NETWORK).objects(), false)));
  EXPECT_TRUE(IsOk(model_.upsert(model_.list(v1::OBJECT_KIND_VM_PORT).objects(), false)));
  EXPECT_EQ(Snapshot(), after);
}

TEST_F(TenantOverlayTest, RemovingAnUnknownRemoteHost) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "ghost"), v1::STATUS_NOT_FOUND,
                      {"remote host 'ghost'"}));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "ghost", true), v1::STATUS_NOT_FOUND,
                      {"remote host 'ghost'"}));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_REMOTE_HOST, "ghost", false, /*missing_ok=*/true)));
  // This host is not a remote host.
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, kHostId), v1::STATUS_NOT_FOUND,
                      {"remote host 'hv1'"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantOverlayTest, RemovingANetworkDoesNotTouchRemoteHosts) {
  Populate();
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_NETWORK, "n1", /*cascade=*/true)));
  EXPECT_TRUE(model_.vm_ports().empty());
  EXPECT_EQ(model_.remote_hosts().size(), 2u);
  // hv2 hosts nothing any more.
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2")));
}

// --- Transactions ----------------------------------------------------------------------------

TEST_F(TenantOverlayTest, FailedBatchesLeaveTheModelUnchanged) {
  Populate();
  const std::string before = Snapshot();
  // A good remote host and network, then a bad remote host.
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv4", "192.0.2.40", "fa:16:3f:00:00:04"),
                              MakeNetwork("n2", 200, v1::BUM_FLOODING_LISTED, {"hv4"}),
                              MakeRemoteHost("hv5", "192.0.2.50", "01:00:00:00:00:05")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'hv5'"}));
  // A good remote host, and a port on a host that is missing.
  EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv4", "192.0.2.40", "fa:16:3f:00:00:04"),
                              MakePort("p4", "n1", "fa:16:3e:00:00:40", {"10.0.0.40"}, "", "hv6")}),
                      v1::STATUS_NOT_FOUND, {"'p4'", "'hv6'"}));
  // A replacement of hv2 that collides with hv3, next to a good change.
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 100, v1::BUM_FLOODING_OFF),
                              MakeRemoteHost("hv2", "198.51.100.30", "fa:16:3f:00:00:02")},
                             true),
                      v1::STATUS_CONFLICT, {"'hv2'", "'hv3'", "198.51.100.30"}));
  // A refused cascade-less delete and a refused host identity.
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2"), v1::STATUS_CONFLICT, {"'hv2'"}));
  v1::HostIdentity h = model_.host();
  AddRoute(h, "203.0.113.0/24", "203.0.113.1");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT, {"'203.0.113.1'"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(Count(v1::OBJECT_KIND_REMOTE_HOST), 2u);
}

}  // namespace
}  // namespace dvr

namespace dvr {
namespace {

TEST_F(TenantOverlayTest, TunnelAddressesMustBeUsableUnicastHosts) {
  for (const char* bad : {"0.0.0.0", "127.0.0.1", "224.0.0.5", "240.0.0.1", "255.255.255.255"}) {
    v1::HostIdentity h = OverlayHost();
    h.set_tunnel_ip(bad);
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT, {"tunnel IP", bad}))
        << bad;
  }
  for (const char* edge : {"192.0.2.0", "192.0.2.255"}) {
    v1::HostIdentity h = OverlayHost();
    h.set_tunnel_ip(edge);
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                        {edge, "network or broadcast", "192.0.2.0/24"}))
        << edge;
  }
  // On a /31 both addresses are hosts (RFC 3021).
  v1::HostIdentity p2p = OverlayHost();
  p2p.set_tunnel_ip("192.0.2.10");
  p2p.set_tunnel_prefix_length(31);
  EXPECT_TRUE(IsOk(model_.set_host(p2p)));
  ASSERT_TRUE(IsOk(model_.set_host(OverlayHost())));
  const std::string before = Snapshot();
  for (const char* bad : {"0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255"}) {
    EXPECT_TRUE(IsError(Upsert({MakeRemoteHost("hv9", bad, "fa:16:3f:00:00:09")}),
                        v1::STATUS_INVALID_ARGUMENT, {"remote host 'hv9'", bad}))
        << bad;
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantOverlayTest, UnderlayRoutesAreUniqueAndTheirNextHopsAreHosts) {
  for (const char* edge : {"192.0.2.0", "192.0.2.255"}) {
    v1::HostIdentity h = OverlayHost();
    AddRoute(h, "198.51.100.0/24", edge);
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                        {"198.51.100.0/24", edge, "192.0.2.0/24"}))
        << edge;
  }
  v1::HostIdentity twice = OverlayHost();
  AddRoute(twice, "198.51.100.0/24", "192.0.2.1");
  AddRoute(twice, "198.51.100.0/24", "192.0.2.2");
  EXPECT_TRUE(
      IsError(model_.set_host(twice), v1::STATUS_INVALID_ARGUMENT, {"198.51.100.0/24", "twice"}));
  v1::HostIdentity two = OverlayHost();
  AddRoute(two, "198.51.100.0/24", "192.0.2.1");
  AddRoute(two, "203.0.113.0/24", "192.0.2.1");
  EXPECT_TRUE(IsOk(model_.set_host(two)));
}

TEST_F(TenantOverlayTest, NoVmPortMayHaveADvrMac) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakePort("p-x", "n1", kDvrMac, {"10.0.0.30"}, "vm9", "")}),
                      v1::STATUS_CONFLICT, {"VM port 'p-x'", kDvrMac, "this host's DVR MAC"}));
  EXPECT_TRUE(
      IsError(Upsert({MakePort("p-y", "n1", "FA:16:3F:00:00:02", {"10.0.0.31"}, "", "hv3")}),
              v1::STATUS_CONFLICT, {"VM port 'p-y'", "remote host 'hv2'"}));
  EXPECT_EQ(Snapshot(), before);
  // And a host identity whose DVR MAC a VM already has is refused too.
  v1::HostIdentity h = OverlayHost();
  h.set_dvr_mac("fa:16:3e:00:00:10");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT, {"VM port 'p-local'"}));
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace dvr
