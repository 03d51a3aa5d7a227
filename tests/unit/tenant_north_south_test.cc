// The tenant model's north-south rules (control/tenant/north_south_rules.cc): the host's agent
// mode and physnet mappings, external (provider) networks, routers' external gateways,
// floating-IP gateways, floating IPs, SNAT bindings, the cascades around them, and which routers
// this host routes. Pure code: no EAL, no dataplane.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_assertions.h"
#include "tenant_model.h"

namespace dvr {
namespace {

namespace v1 = api::v1;

using test::IsError;
using test::IsOk;

// --- Object builders -------------------------------------------------------------------------

v1::Object MakeRouter(const std::string& id, std::optional<bool> distributed = std::nullopt,
                      const std::string& ext_net = "", const std::string& ext_ip = "",
                      bool snat = false) {
  v1::Object o;
  v1::Router* r = o.mutable_router();
  r->set_id(id);
  r->set_tenant_id("tenant");
  r->set_admin_state_up(true);
  if (distributed) r->set_distributed(*distributed);
  r->set_external_network_id(ext_net);
  r->set_external_gateway_ip(ext_ip);
  r->set_enable_snat(snat);
  return o;
}

v1::Object MakeNetwork(const std::string& id, uint32_t segmentation_id) {
  v1::Object o;
  v1::Network* n = o.mutable_network();
  n->set_id(id);
  n->set_tenant_id("tenant");
  n->set_segmentation_id(segmentation_id);
  return o;
}

v1::Object MakeExternal(const std::string& id, v1::ProviderType type, const std::string& physnet,
                        uint32_t vlan = 0, bool external = true) {
  v1::Object o;
  v1::Network* n = o.mutable_network();
  n->set_id(id);
  n->set_tenant_id("admin");
  n->set_external(external);
  n->set_provider_type(type);
  n->set_physical_network(physnet);
  n->set_segmentation_id(vlan);
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

v1::Object MakeInterface(const std::string& id, const std::string& router,
                         const std::string& subnet, const std::string& mac) {
  v1::Object o;
  v1::RouterInterface* ri = o.mutable_router_interface();
  ri->set_id(id);
  ri->set_router_id(router);
  ri->set_subnet_id(subnet);
  ri->set_gateway_mac(mac);
  return o;
}

v1::Object MakePort(const std::string& id, const std::string& network, const std::string& mac,
                    const std::vector<std::string>& ips, const std::string& dataplane_port,
                    const std::string& host_id = "") {
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

v1::Object MakeFipGateway(const std::string& id, const std::string& network,
                          const std::string& host, const std::string& ip, const std::string& mac) {
  v1::Object o;
  v1::FloatingIpGateway* g = o.mutable_floating_ip_gateway();
  g->set_id(id);
  g->set_network_id(network);
  g->set_host_id(host);
  g->set_ip(ip);
  g->set_mac(mac);
  return o;
}

v1::Object MakeFip(const std::string& id, const std::string& router, const std::string& fip,
                   const std::string& fixed, const std::string& port) {
  v1::Object o;
  v1::FloatingIp* f = o.mutable_floating_ip();
  f->set_id(id);
  f->set_router_id(router);
  f->set_floating_ip(fip);
  f->set_fixed_ip(fixed);
  f->set_vm_port_id(port);
  return o;
}

v1::Object MakeSnat(const std::string& router, const std::string& host,
                    const std::string& snat_ip = "", uint32_t min = 0, uint32_t max = 0) {
  v1::Object o;
  v1::SnatBinding* b = o.mutable_snat_binding();
  b->set_router_id(router);
  b->set_host_id(host);
  b->set_snat_ip(snat_ip);
  if (min != 0 || max != 0) {
    b->mutable_ports()->set_min(min);
    b->mutable_ports()->set_max(max);
  }
  return o;
}

constexpr const char* kHostId = "hv1";
constexpr const char* kExtMac = "fa:16:3f:aa:00:01";

// This host: hv1, dvr_snat, physnet1 on dataplane port ext0.
v1::HostIdentity Host(v1::AgentMode mode = v1::AGENT_MODE_DVR_SNAT) {
  v1::HostIdentity h;
  h.set_host_id(kHostId);
  h.set_agent_mode(mode);
  v1::PhysnetPort* m = h.add_physnet_ports();
  m->set_physical_network("physnet1");
  m->set_port("ext0");
  return h;
}

constexpr v1::ObjectKind kKinds[] = {
    v1::OBJECT_KIND_ROUTER,       v1::OBJECT_KIND_NETWORK,
    v1::OBJECT_KIND_SUBNET,       v1::OBJECT_KIND_ROUTER_INTERFACE,
    v1::OBJECT_KIND_VM_PORT,      v1::OBJECT_KIND_STATIC_ROUTE,
    v1::OBJECT_KIND_NETWORK_ACL,  v1::OBJECT_KIND_SECURITY_GROUP,
    v1::OBJECT_KIND_REMOTE_HOST,  v1::OBJECT_KIND_FLOATING_IP,
    v1::OBJECT_KIND_SNAT_BINDING, v1::OBJECT_KIND_FLOATING_IP_GATEWAY,
};

class TenantNorthSouthTest : public ::testing::Test {
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
  const v1::Router& Router(const std::string& id) const { return model_.routers().at(id); }

  // External network "ext" (flat on physnet1, 203.0.113.0/24, gateway .1); tenant network n1
  // (VNI 100, 10.0.0.0/24) with VM ports p1 (10.0.0.10, dataplane port vm1) and p2
  // (10.0.0.11, vm2); router r1 (distributed by default) attached to n1, its external gateway
  // 203.0.113.10 with SNAT; this host's floating-IP gateway fg1 (203.0.113.2); floating IP fip1
  // 203.0.113.50 -> p1; r1's SNAT bound here; remote host hv2.
  void Populate() {
    ASSERT_TRUE(IsOk(model_.set_host(Host())));
    ASSERT_TRUE(IsOk(Upsert({
        MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02"),
        MakeExternal("ext", v1::PROVIDER_TYPE_FLAT, "physnet1"),
        MakeSubnet("ext-s", "ext", "203.0.113.0/24"),
        MakeNetwork("n1", 100),
        MakeSubnet("s1", "n1", "10.0.0.0/24"),
        MakeRouter("r1", std::nullopt, "ext", "203.0.113.10", true),
        MakeInterface("ri1", "r1", "s1", "fa:16:3e:00:00:01"),
        MakePort("p1", "n1", "fa:16:3e:00:00:10", {"10.0.0.10"}, "vm1"),
        MakePort("p2", "n1", "fa:16:3e:00:00:11", {"10.0.0.11"}, "vm2"),
        MakeFipGateway("fg1", "ext", kHostId, "203.0.113.2", kExtMac),
        MakeFip("fip1", "r1", "203.0.113.50", "10.0.0.10", "p1"),
        MakeSnat("r1", kHostId),
    })));
  }

  TenantModel model_;
};

// --- The host: agent mode, physnet mappings, distributed default -----------------------------

TEST_F(TenantNorthSouthTest, AgentModeResolution) {
  EXPECT_EQ(model_.agent_mode(), v1::AGENT_MODE_DVR);  // nothing said: a compute host
  v1::HostIdentity h;
  h.set_host_id(kHostId);
  h.set_snat_node(true);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_EQ(model_.agent_mode(), v1::AGENT_MODE_DVR_SNAT);
  h.set_snat_node(false);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_EQ(model_.agent_mode(), v1::AGENT_MODE_DVR);
  // An explicit mode wins over snat_node.
  for (v1::AgentMode m : {v1::AGENT_MODE_DVR, v1::AGENT_MODE_DVR_SNAT, v1::AGENT_MODE_LEGACY}) {
    for (bool snat_node : {false, true}) {
      h.set_agent_mode(m);
      h.set_snat_node(snat_node);
      ASSERT_TRUE(IsOk(model_.set_host(h)));
      EXPECT_EQ(model_.agent_mode(), m) << m << " " << snat_node;
      EXPECT_EQ(model_.host().agent_mode(), m);
    }
  }
  const std::string before = Snapshot();
  h.set_agent_mode(static_cast<v1::AgentMode>(9));
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT, {"unknown agent mode 9"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantNorthSouthTest, PhysnetMappingNeedsBothHalves) {
  for (auto [physnet, port] :
       {std::pair{"", "ext0"}, std::pair{"physnet1", ""}, std::pair{"", ""}}) {
    v1::HostIdentity h = Host();
    h.clear_physnet_ports();
    v1::PhysnetPort* m = h.add_physnet_ports();
    m->set_physical_network(physnet);
    m->set_port(port);
    EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                        {"a physnet mapping needs a physical network and a port"}))
        << physnet << "/" << port;
  }
  EXPECT_EQ(model_.host().physnet_ports_size(), 0);
}

TEST_F(TenantNorthSouthTest, PhysnetMappedTwiceIsRefused) {
  v1::HostIdentity h = Host();
  v1::PhysnetPort* m = h.add_physnet_ports();
  m->set_physical_network("physnet1");
  m->set_port("ext1");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_INVALID_ARGUMENT,
                      {"physical network 'physnet1' is mapped twice"}));
  // Two physnets on one port: frames there are told apart by VLAN only, so that is refused.
  m->set_physical_network("physnet2");
  m->set_port("ext0");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT,
                      {"'physnet1' and 'physnet2' are both mapped to port 'ext0'"}));
  // On their own ports they are fine.
  m->set_port("ext1");
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_EQ(model_.host().physnet_ports_size(), 2);
}

TEST_F(TenantNorthSouthTest, PhysnetOnTheUplinkPortIsRefused) {
  v1::HostIdentity h = Host();
  h.set_uplink_port("uplink0");
  h.set_tunnel_ip("192.0.2.10");
  h.set_tunnel_prefix_length(24);
  h.set_dvr_mac("fa:16:3f:00:00:01");
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  h.mutable_physnet_ports(0)->set_port("uplink0");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT,
                      {"physical network 'physnet1' is mapped to 'uplink0'", "uplink port"}));
  EXPECT_EQ(model_.host().physnet_ports(0).port(), "ext0");
}

TEST_F(TenantNorthSouthTest, PhysnetOnAVmPortIsRefusedBothWays) {
  Populate();
  const std::string before = Snapshot();
  v1::HostIdentity h = Host();
  h.mutable_physnet_ports(0)->set_port("vm2");
  EXPECT_TRUE(IsError(model_.set_host(h), v1::STATUS_CONFLICT,
                      {"physical network 'physnet1' is mapped to 'vm2'", "VM port 'p2'"}));
  // And a VM port plugged into the physnet's port.
  EXPECT_TRUE(IsError(Upsert({MakePort("p3", "n1", "fa:16:3e:00:00:12", {"10.0.0.12"}, "ext0")}),
                      v1::STATUS_CONFLICT,
                      {"physical network 'physnet1' is mapped to 'ext0'", "VM port 'p3'"}));
  EXPECT_EQ(Snapshot(), before);
}

// A host_set that leaves distributed_default unset keeps the previous value (dvrd's
// --router-mode at start); a set one replaces it.
TEST_F(TenantNorthSouthTest, UnsetDistributedDefaultKeepsThePreviousValue) {
  EXPECT_TRUE(model_.host().distributed_default());
  ASSERT_TRUE(IsOk(Upsert({MakeRouter("r")})));
  EXPECT_TRUE(model_.distributed(Router("r")));
  v1::HostIdentity h;
  h.set_host_id(kHostId);
  h.set_distributed_default(false);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_FALSE(model_.distributed(Router("r")));
  v1::HostIdentity unset;
  unset.set_host_id(kHostId);
  unset.set_snat_node(true);
  ASSERT_FALSE(unset.has_distributed_default());
  ASSERT_TRUE(IsOk(model_.set_host(unset)));
  EXPECT_TRUE(model_.host().has_distributed_default());
  EXPECT_FALSE(model_.host().distributed_default());
  EXPECT_FALSE(model_.distributed(Router("r")));
  EXPECT_TRUE(model_.host().snat_node());  // the rest of the identity did change
  h.set_distributed_default(true);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_TRUE(model_.distributed(Router("r")));
  ASSERT_TRUE(IsOk(model_.set_host(unset)));
  EXPECT_TRUE(model_.host().distributed_default());
  // A router's own flag beats the default.
  ASSERT_TRUE(IsOk(Upsert({MakeRouter("c", false)})));
  EXPECT_FALSE(model_.distributed(Router("c")));
}

// --- External networks -----------------------------------------------------------------------

TEST_F(TenantNorthSouthTest, ExternalNetworksAreFlatOrVlanOnAPhysnet) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_OVERLAY, "physnet1", 300)}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"network 'x' is external", "flat or VLAN provider network"}));
  EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_VLAN, "physnet1", 300, false)}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"network 'x' is a provider network", "external"}));
  EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_FLAT, "physnet2", 0, false)}),
                      v1::STATUS_INVALID_ARGUMENT, {"network 'x' is a provider network"}));
  EXPECT_TRUE(IsError(Upsert({MakeExternal("x", static_cast<v1::ProviderType>(9), "physnet1")}),
                      v1::STATUS_INVALID_ARGUMENT, {"network 'x'", "unknown provider type 9"}));
  EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_VLAN, "", 300)}),
                      v1::STATUS_INVALID_ARGUMENT, {"network 'x' names no physical network"}));
  EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_FLAT, "")}),
                      v1::STATUS_INVALID_ARGUMENT, {"network 'x' names no physical network"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantNorthSouthTest, VlanIdRange) {
  for (uint32_t vlan : {0u, 4095u, 4096u, 65536u}) {
    EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_VLAN, "physnet1", vlan)}),
                        v1::STATUS_INVALID_ARGUMENT,
                        {"network 'x'", "VLAN id " + std::to_string(vlan), "outside 1..4094"}))
        << vlan;
  }
  ASSERT_TRUE(IsOk(Upsert({MakeExternal("v1", v1::PROVIDER_TYPE_VLAN, "physnet1", 1),
                           MakeExternal("v4094", v1::PROVIDER_TYPE_VLAN, "physnet1", 4094)})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 2u);
}

TEST_F(TenantNorthSouthTest, FlatHasNoSegmentationId) {
  for (uint32_t id : {1u, 5u, 4094u}) {
    EXPECT_TRUE(IsError(Upsert({MakeExternal("x", v1::PROVIDER_TYPE_FLAT, "physnet1", id)}),
                        v1::STATUS_INVALID_ARGUMENT,
                        {"network 'x' is flat but has segmentation id " + std::to_string(id)}))
        << id;
  }
}

TEST_F(TenantNorthSouthTest, OneNetworkPerPhysnetSegment) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeExternal("ext2", v1::PROVIDER_TYPE_FLAT, "physnet1")}),
                      v1::STATUS_CONFLICT,
                      {"network 'ext2' uses the untagged (flat) segment of physical network "
                       "'physnet1', as network 'ext' does"}));
  EXPECT_TRUE(IsError(Upsert({MakeExternal("va", v1::PROVIDER_TYPE_VLAN, "physnet1", 100),
                              MakeExternal("vb", v1::PROVIDER_TYPE_VLAN, "physnet1", 100)}),
                      v1::STATUS_CONFLICT,
                      {"network 'vb' uses VLAN 100 of physical network 'physnet1', as network "
                       "'va' does"}));
  EXPECT_EQ(Snapshot(), before);
  // The same VLAN on another physnet, or a VLAN equal to an overlay VNI (n1's 100): fine.
  ASSERT_TRUE(IsOk(Upsert({MakeExternal("va", v1::PROVIDER_TYPE_VLAN, "physnet1", 100),
                           MakeExternal("vb", v1::PROVIDER_TYPE_VLAN, "physnet2", 100),
                           MakeExternal("f2", v1::PROVIDER_TYPE_FLAT, "physnet2")})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 5u);
}

// The rules every network has besides its segment (MTU 68..9216, an existing network ACL) hold
// for external networks too.
TEST_F(TenantNorthSouthTest, ExternalNetworksKeepTheCommonNetworkRules) {
  // (Each sent with replace, so that one wrongly accepted does not hide the next.)
  for (uint32_t mtu : {67u, 9217u, 70000u}) {
    v1::Object n = MakeExternal("x", v1::PROVIDER_TYPE_VLAN, "physnet1", 300);
    n.mutable_network()->set_mtu(mtu);
    EXPECT_TRUE(IsError(Upsert({n}, true), v1::STATUS_INVALID_ARGUMENT,
                        {"network 'x': MTU " + std::to_string(mtu) + " is outside 68..9216"}))
        << mtu;
  }
  v1::Object n = MakeExternal("x", v1::PROVIDER_TYPE_VLAN, "physnet1", 300);
  n.mutable_network()->set_network_acl_id("acl-x");
  EXPECT_TRUE(IsError(Upsert({n}, true), v1::STATUS_NOT_FOUND,
                      {"network 'x' refers to unknown network ACL 'acl-x'"}));
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 0u);
}

TEST_F(TenantNorthSouthTest, VmPortsAndRouterInterfacesStayOffExternalNetworks) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakePort("pe", "ext", "fa:16:3e:00:00:99", {"203.0.113.99"}, "vm9")}),
                      v1::STATUS_INVALID_ARGUMENT, {"VM port 'pe' is on external network 'ext'"}));
  EXPECT_TRUE(IsError(
      Upsert({MakeRouter("r9"), MakeInterface("rie", "r9", "ext-s", "fa:16:3e:00:00:98")}),
      v1::STATUS_INVALID_ARGUMENT, {"router interface 'rie' is on external network 'ext'"}));
  // Nor may a tenant network turn external under its ports.
  v1::Object n1 = MakeExternal("n1", v1::PROVIDER_TYPE_VLAN, "physnet1", 100);
  EXPECT_TRUE(IsError(Upsert({n1}, true), v1::STATUS_INVALID_ARGUMENT,
                      {"VM port 'p1' is on external network 'n1'"}));
  EXPECT_EQ(Snapshot(), before);
}

// --- Routers' external gateways --------------------------------------------------------------

TEST_F(TenantNorthSouthTest, RouterExternalGatewayRules) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "nope", "203.0.113.20")}),
                      v1::STATUS_NOT_FOUND,
                      {"router 'r2' refers to unknown external network 'nope'"}));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "n1", "10.0.0.20")}),
                      v1::STATUS_INVALID_ARGUMENT, {"router 'r2': network 'n1' is not external"}));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", "")}), v1::STATUS_INVALID_ARGUMENT,
                      {"router 'r2' has no external gateway IP"}));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", "198.51.100.20")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"router 'r2': 198.51.100.20 is outside every subnet of network 'ext'"}));
  for (const char* special : {"203.0.113.0", "203.0.113.255", "203.0.113.1"}) {
    EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", special)}),
                        v1::STATUS_INVALID_ARGUMENT,
                        {"router 'r2': " + std::string(special) +
                         " is the network, broadcast or gateway address of 203.0.113.0/24"}))
        << special;
  }
  for (const char* bad : {"203.0.113", "x", "203.0.113.300"}) {
    EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", bad)}), v1::STATUS_INVALID_ARGUMENT,
                        {"router 'r2': '" + std::string(bad) + "' is not an IPv4 address"}))
        << bad;
  }
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "", "203.0.113.20")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"router 'r2' has an external gateway IP or SNAT but no external network"}));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "", "", true)}), v1::STATUS_INVALID_ARGUMENT,
                      {"router 'r2' has an external gateway IP or SNAT but no external network"}));
  // One owner per address: another router's gateway, this host's FIP gateway, a floating IP.
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", "203.0.113.10")}), v1::STATUS_CONFLICT,
                      {"router 'r2': 203.0.113.10 is already router 'r1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", "203.0.113.2")}), v1::STATUS_CONFLICT,
                      {"203.0.113.2", "floating IP gateway 'fg1'"}));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2", true, "ext", "203.0.113.50")}), v1::STATUS_CONFLICT,
                      {"203.0.113.50", "floating IP 'fip1'"}));
  EXPECT_EQ(Snapshot(), before);
  // A router without a gateway at all, and another gateway address: fine.
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("r3"), MakeRouter("r2", false, "ext", "203.0.113.20", true)})));
  EXPECT_EQ(Router("r2").external_gateway_ip(), "203.0.113.20");
}

// --- Floating-IP gateways --------------------------------------------------------------------

TEST_F(TenantNorthSouthTest, FipGatewayFieldsAreChecked) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113", kExtMac)}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP gateway 'fg2': '203.0.113' is not an IPv4 address"}));
  EXPECT_TRUE(IsError(
      Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113.3", "01:00:5e:00:00:01")}),
      v1::STATUS_INVALID_ARGUMENT, {"floating IP gateway 'fg2'", "is not a unicast MAC address"}));
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", "", "203.0.113.3", kExtMac)}),
                      v1::STATUS_INVALID_ARGUMENT, {"floating IP gateway 'fg2' names no host"}));
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "nope", "hv2", "203.0.113.3", kExtMac)}),
                      v1::STATUS_NOT_FOUND,
                      {"floating IP gateway 'fg2' refers to unknown network 'nope'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "n1", "hv2", "10.0.0.3", kExtMac)}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP gateway 'fg2': network 'n1' is not external"}));
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", "hv2", "198.51.100.3", kExtMac)}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP gateway 'fg2': 198.51.100.3 is outside every subnet"}));
  EXPECT_EQ(Snapshot(), before);
  // Normalized MAC and address.
  ASSERT_TRUE(
      IsOk(Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113.3", "FA:16:3F:AA:00:02")})));
  EXPECT_EQ(model_.fip_gateways().at("fg2").mac(), "fa:16:3f:aa:00:02");
}

TEST_F(TenantNorthSouthTest, OneFipGatewayPerHostAndNetwork) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", kHostId, "203.0.113.3", kExtMac)}),
                      v1::STATUS_CONFLICT,
                      {"floating IP gateway 'fg2': host 'hv1' already has a floating IP gateway "
                       "on network 'ext'"}));
  // Address clashes: with another host's gateway, a router's gateway, a floating IP.
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113.2", kExtMac)}),
                      v1::STATUS_CONFLICT,
                      {"floating IP gateway 'fg2': 203.0.113.2 is already floating IP gateway "
                       "'fg1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113.10", kExtMac)}),
                      v1::STATUS_CONFLICT,
                      {"floating IP gateway 'fg2': 203.0.113.10 is already router 'r1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113.50", kExtMac)}),
                      v1::STATUS_CONFLICT, {"203.0.113.50", "floating IP 'fip1'"}));
  EXPECT_EQ(Snapshot(), before);
  // Another host on the same network, and this host on another network: fine.
  ASSERT_TRUE(IsOk(Upsert({MakeFipGateway("fg2", "ext", "hv2", "203.0.113.3", kExtMac),
                           MakeExternal("ext2", v1::PROVIDER_TYPE_VLAN, "physnet1", 7),
                           MakeSubnet("ext2-s", "ext2", "198.51.100.0/24"),
                           MakeFipGateway("fg3", "ext2", kHostId, "198.51.100.2", kExtMac)})));
  ASSERT_NE(model_.local_fip_gateway("ext"), nullptr);
  EXPECT_EQ(model_.local_fip_gateway("ext")->id(), "fg1");
  ASSERT_NE(model_.local_fip_gateway("ext2"), nullptr);
  EXPECT_EQ(model_.local_fip_gateway("ext2")->id(), "fg3");
  EXPECT_EQ(model_.local_fip_gateway("n1"), nullptr);
}

// --- Floating IPs ----------------------------------------------------------------------------

TEST_F(TenantNorthSouthTest, FloatingIpRules) {
  Populate();
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("r3"), MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.1.0.0/24"),
                   MakePort("p3", "n2", "fa:16:3e:00:00:13", {"10.1.0.5"}, "vm3")})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "nope", "203.0.113.51", "10.0.0.11", "p2")}),
                      v1::STATUS_NOT_FOUND,
                      {"floating IP 'fip2' refers to unknown router 'nope'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r3", "203.0.113.51", "10.0.0.11", "p2")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP 'fip2': router 'r3' has no external gateway"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.11", "nope")}),
                      v1::STATUS_NOT_FOUND,
                      {"floating IP 'fip2' refers to unknown VM port 'nope'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.11", "p1")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP 'fip2': 10.0.0.11 is not a fixed IP of VM port 'p1'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.1.0.5", "p3")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP 'fip2': 10.1.0.5 is not on a subnet attached to router 'r1'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.50", "10.0.0.11", "p2")}),
                      v1::STATUS_CONFLICT,
                      {"floating IP 'fip2': 203.0.113.50 is already floating IP 'fip1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.10", "p1")}),
                      v1::STATUS_CONFLICT,
                      {"floating IP 'fip2': 10.0.0.10 already has a floating IP on router 'r1'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.10", "10.0.0.11", "p2")}),
                      v1::STATUS_CONFLICT,
                      {"floating IP 'fip2': 203.0.113.10 is already router 'r1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.255", "10.0.0.11", "p2")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP 'fip2': 203.0.113.255 is the network, broadcast or gateway "
                       "address"}));
  EXPECT_TRUE(
      IsError(Upsert({MakeFip("fip2", "r1", "198.51.100.1", "10.0.0.11", "p2")}),
              v1::STATUS_INVALID_ARGUMENT,
              {"floating IP 'fip2': 198.51.100.1 is outside every subnet of network 'ext'"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "fip", "10.0.0.11", "p2")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP 'fip2': 'fip' is not an IPv4 address"}));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0", "p2")}),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"floating IP 'fip2' fixed IP: '10.0.0' is not an IPv4 address"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.11", "p2")})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_FLOATING_IP), 2u);
  // Idempotent; a change needs replace.
  EXPECT_TRUE(IsOk(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.11", "p2")})));
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.52", "10.0.0.11", "p2")}),
                      v1::STATUS_ALREADY_EXISTS, {"floating IP 'fip2'"}));
  ASSERT_TRUE(IsOk(Upsert({MakeFip("fip2", "r1", "203.0.113.52", "10.0.0.11", "p2")}, true)));
  EXPECT_EQ(model_.floating_ips().at("fip2").floating_ip(), "203.0.113.52");
}

// --- SNAT bindings ---------------------------------------------------------------------------

TEST_F(TenantNorthSouthTest, SnatBindingHostMustBeKnown) {
  Populate();
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", "hv9")}, true), v1::STATUS_NOT_FOUND,
                      {"SNAT binding of router 'r1' names unknown host 'hv9'",
                       "neither this host nor a remote host"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", "")}, true), v1::STATUS_INVALID_ARGUMENT,
                      {"SNAT binding of router 'r1' names no host"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("nope", "hv2")}), v1::STATUS_NOT_FOUND,
                      {"SNAT binding of router 'nope' refers to unknown router"}));
  EXPECT_EQ(Snapshot(), before);
  // Moving the binding to the remote host is a replace.
  EXPECT_TRUE(
      IsError(Upsert({MakeSnat("r1", "hv2")}), v1::STATUS_ALREADY_EXISTS, {"SNAT binding 'r1'"}));
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", "hv2")}, true)));
  EXPECT_EQ(model_.snat_host_of("r1"), "hv2");
  EXPECT_EQ(model_.snat_host_of("nope"), "");
}

TEST_F(TenantNorthSouthTest, SnatBindingHereNeedsTheRightAgentMode) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakeRouter("c1", false, "ext", "203.0.113.11", true)})));
  // dvr_snat: distributed and centralized routers alike.
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("c1", kHostId)})));
  const std::string before = Snapshot();
  // dvr: neither.
  EXPECT_TRUE(IsError(model_.set_host(Host(v1::AGENT_MODE_DVR)), v1::STATUS_CONFLICT,
                      {"SNAT binding of router",
                       "this host's agent mode (AGENT_MODE_DVR) cannot "
                       "host"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SNAT_BINDING, "c1")));
  EXPECT_TRUE(IsError(model_.set_host(Host(v1::AGENT_MODE_DVR)), v1::STATUS_CONFLICT,
                      {"SNAT binding of router 'r1': this host's agent mode (AGENT_MODE_DVR) "
                       "cannot host SNAT; use dvr_snat"}));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SNAT_BINDING, "r1")));
  ASSERT_TRUE(IsOk(model_.set_host(Host(v1::AGENT_MODE_DVR))));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("c1", kHostId)}), v1::STATUS_CONFLICT,
                      {"SNAT binding of router 'c1': this host's agent mode (AGENT_MODE_DVR) "
                       "cannot host routers; use dvr_snat or legacy"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId)}), v1::STATUS_CONFLICT,
                      {"cannot host SNAT; use dvr_snat"}));
  // UNSPECIFIED without snat_node is dvr too; with it, dvr_snat.
  v1::HostIdentity h = Host(v1::AGENT_MODE_UNSPECIFIED);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId)}), v1::STATUS_CONFLICT, {"AGENT_MODE_DVR)"}));
  h.set_snat_node(true);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", kHostId), MakeSnat("c1", kHostId)})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_SNAT_BINDING), 2u);
  // A binding to another host is never this host's business.
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", "hv2"), MakeSnat("c1", "hv2")}, true)));
  ASSERT_TRUE(IsOk(model_.set_host(Host(v1::AGENT_MODE_DVR))));
  ASSERT_TRUE(IsOk(model_.set_host(Host(v1::AGENT_MODE_LEGACY))));
}

TEST_F(TenantNorthSouthTest, LegacyHostsOnlyCentralizedRouters) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakeRouter("c1", false, "ext", "203.0.113.11", true)})));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SNAT_BINDING, "r1")));
  ASSERT_TRUE(IsOk(model_.set_host(Host(v1::AGENT_MODE_LEGACY))));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId)}), v1::STATUS_CONFLICT,
                      {"SNAT binding of router 'r1': this host's agent mode (AGENT_MODE_LEGACY) "
                       "cannot host SNAT; use dvr_snat"}));
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("c1", kHostId)})));
  // A router turning distributed under its binding on a legacy host: refused.
  EXPECT_TRUE(IsError(Upsert({MakeRouter("c1", true, "ext", "203.0.113.11", true)}, true),
                      v1::STATUS_CONFLICT, {"AGENT_MODE_LEGACY", "cannot host SNAT"}));
  // And the default: unset `distributed` with distributed_default true is distributed.
  EXPECT_TRUE(IsError(Upsert({MakeRouter("c1", std::nullopt, "ext", "203.0.113.11", true)}, true),
                      v1::STATUS_CONFLICT, {"AGENT_MODE_LEGACY"}));
}

TEST_F(TenantNorthSouthTest, SnatPortRange) {
  Populate();
  // Unset (0-0): 1024-65535.
  const v1::SnatBinding& b = model_.snat_bindings().at("r1");
  EXPECT_EQ(b.ports().min(), 1024u);
  EXPECT_EQ(b.ports().max(), 65535u);
  const std::string before = Snapshot();
  for (auto [min, max] : {std::pair{0u, 100u}, std::pair{2000u, 1999u}, std::pair{1u, 65536u},
                          std::pair{5u, 0u}, std::pair{70000u, 80000u}}) {
    EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "", min, max)}, true),
                        v1::STATUS_INVALID_ARGUMENT,
                        {"SNAT binding of router 'r1': port range " + std::to_string(min) + "-" +
                         std::to_string(max) + " is not within 1-65535 with min <= max"}))
        << min << "-" << max;
  }
  EXPECT_EQ(Snapshot(), before);
  for (auto [min, max] : {std::pair{1u, 1u}, std::pair{1u, 65535u}, std::pair{65535u, 65535u},
                          std::pair{20000u, 29999u}}) {
    ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", kHostId, "", min, max)}, true))) << min;
    EXPECT_EQ(model_.snat_bindings().at("r1").ports().min(), min);
    EXPECT_EQ(model_.snat_bindings().at("r1").ports().max(), max);
  }
  // Sending the unset range again restores the default (and is a change: replace).
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", kHostId)}, true)));
  EXPECT_EQ(model_.snat_bindings().at("r1").ports().min(), 1024u);
  EXPECT_EQ(model_.snat_bindings().at("r1").ports().max(), 65535u);
  // The stored binding is its canonical form: sending the default explicitly is idempotent.
  EXPECT_TRUE(IsOk(Upsert({MakeSnat("r1", kHostId, "", 1024, 65535)})));
}

TEST_F(TenantNorthSouthTest, SnatAddress) {
  Populate();
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("r3"), MakeRouter("r4", true, "ext", "203.0.113.12", true)})));
  // Empty: the router's gateway IP.
  EXPECT_EQ(model_.snat_ip_of(model_.snat_bindings().at("r1")), "203.0.113.10");
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r3", "hv2", "203.0.113.30")}), v1::STATUS_INVALID_ARGUMENT,
                      {"SNAT binding of router 'r3' gives a SNAT IP but the router has no "
                       "external gateway"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "203.0.113.50")}, true), v1::STATUS_CONFLICT,
                      {"SNAT binding of router 'r1': 203.0.113.50 is already floating IP "
                       "'fip1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "203.0.113.2")}, true), v1::STATUS_CONFLICT,
                      {"SNAT binding of router 'r1': 203.0.113.2 is already floating IP gateway "
                       "'fg1''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "203.0.113.12")}, true), v1::STATUS_CONFLICT,
                      {"SNAT binding of router 'r1': 203.0.113.12 is already router 'r4''s"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "198.51.100.9")}, true),
                      v1::STATUS_INVALID_ARGUMENT,
                      {"SNAT binding of router 'r1': 198.51.100.9 is outside every subnet of "
                       "network 'ext'"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "203.0.113.1")}, true),
                      v1::STATUS_INVALID_ARGUMENT, {"network, broadcast or gateway address"}));
  EXPECT_TRUE(IsError(Upsert({MakeSnat("r1", kHostId, "snat")}, true), v1::STATUS_INVALID_ARGUMENT,
                      {"SNAT binding of router 'r1' SNAT IP: 'snat' is not an IPv4 address"}));
  // Two routers' SNAT addresses.
  EXPECT_TRUE(IsError(
      Upsert({MakeSnat("r1", kHostId, "203.0.113.30"), MakeSnat("r4", "hv2", "203.0.113.30")},
             true),
      v1::STATUS_CONFLICT,
      {"SNAT binding of router 'r4': 203.0.113.30 is already SNAT binding of "
       "router 'r1''s"}));
  EXPECT_EQ(Snapshot(), before);
  // Its own gateway IP given explicitly, or a free address: fine.
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", kHostId, "203.0.113.10")}, true)));
  EXPECT_EQ(model_.snat_ip_of(model_.snat_bindings().at("r1")), "203.0.113.10");
  ASSERT_TRUE(IsOk(Upsert({MakeSnat("r1", kHostId, "203.0.113.30")}, true)));
  EXPECT_EQ(model_.snat_ip_of(model_.snat_bindings().at("r1")), "203.0.113.30");
  // Now that address is taken for everyone else.
  EXPECT_TRUE(IsError(Upsert({MakeFip("fip2", "r1", "203.0.113.30", "10.0.0.11", "p2")}),
                      v1::STATUS_CONFLICT, {"203.0.113.30"}));
}

// --- Cascades --------------------------------------------------------------------------------

TEST_F(TenantNorthSouthTest, RouterDeleteCascadesToFloatingIpsAndSnatBinding) {
  Populate();
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("r2", true, "ext", "203.0.113.20", true), MakeSnat("r2", "hv2")})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_ROUTER, "r2"), v1::STATUS_CONFLICT,
                      {"router 'r2' still has 1 SNAT binding(s), e.g. 'r2'", "cascade"}));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_ROUTER, "r1"), v1::STATUS_CONFLICT,
                      {"router 'r1' still has 1 interface(s)"}));
  // fip1's fixed IP is reachable only through ri1.
  EXPECT_TRUE(
      IsError(Remove(v1::OBJECT_KIND_ROUTER_INTERFACE, "ri1"), v1::STATUS_INVALID_ARGUMENT,
              {"floating IP 'fip1': 10.0.0.10 is not on a subnet attached to router 'r1'"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER, "r2", true)));
  EXPECT_FALSE(model_.snat_bindings().contains("r2"));
  EXPECT_TRUE(model_.snat_bindings().contains("r1"));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER, "r1", true)));
  EXPECT_EQ(Count(v1::OBJECT_KIND_FLOATING_IP), 0u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_SNAT_BINDING), 0u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER_INTERFACE), 0u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER), 0u);
  // The rest stays.
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), 2u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_FLOATING_IP_GATEWAY), 1u);
}

TEST_F(TenantNorthSouthTest, RouterCascadeTakesAllItsFloatingIps) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.11", "p2")})));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_ROUTER, "r1"), v1::STATUS_CONFLICT,
                      {"router 'r1' still has 1 interface(s), e.g. 'ri1'"}));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER, "r1", true)));
  EXPECT_TRUE(model_.floating_ips().empty());
}

TEST_F(TenantNorthSouthTest, VmPortDeleteCascadesToItsFloatingIps) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakeFip("fip2", "r1", "203.0.113.51", "10.0.0.11", "p2")})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_VM_PORT, "p1"), v1::STATUS_CONFLICT,
                      {"VM port 'p1' still has 1 floating IP(s), e.g. 'fip1'", "cascade"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_VM_PORT, "p1", true)));
  EXPECT_FALSE(model_.floating_ips().contains("fip1"));
  EXPECT_TRUE(model_.floating_ips().contains("fip2"));
  EXPECT_FALSE(model_.vm_ports().contains("p1"));
}

TEST_F(TenantNorthSouthTest, NetworkDeleteCascadesToFipGateways) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakeExternal("ext2", v1::PROVIDER_TYPE_VLAN, "physnet1", 7),
                           MakeSubnet("ext2-s", "ext2", "198.51.100.0/24"),
                           MakeFipGateway("fg2", "ext2", kHostId, "198.51.100.2", kExtMac),
                           MakeFipGateway("fg3", "ext2", "hv2", "198.51.100.3", kExtMac)})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_NETWORK, "ext2"), v1::STATUS_CONFLICT,
                      {"network 'ext2' still has 2 floating IP gateway(s), e.g. 'fg2'"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_NETWORK, "ext2", true)));
  EXPECT_FALSE(model_.networks().contains("ext2"));
  EXPECT_FALSE(model_.subnets().contains("ext2-s"));
  EXPECT_EQ(model_.fip_gateways().size(), 1u);
  EXPECT_TRUE(model_.fip_gateways().contains("fg1"));
  // An external network a router's gateway is on cannot go, cascade or not.
  const std::string kept = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_NETWORK, "ext", true), v1::STATUS_NOT_FOUND,
                      {"router 'r1' refers to unknown external network 'ext'"}));
  EXPECT_EQ(Snapshot(), kept);
}

TEST_F(TenantNorthSouthTest, RemoteHostDeleteCascadesToItsSnatBindings) {
  Populate();
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("r2", false, "ext", "203.0.113.20", true), MakeSnat("r2", "hv2")})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2"), v1::STATUS_CONFLICT,
                      {"remote host 'hv2' still has 1 SNAT binding(s), e.g. 'r2'"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2", true)));
  EXPECT_FALSE(model_.snat_bindings().contains("r2"));
  EXPECT_TRUE(model_.snat_bindings().contains("r1"));
  EXPECT_TRUE(model_.routers().contains("r2"));
  EXPECT_EQ(model_.snat_host_of("r2"), "");
}

TEST_F(TenantNorthSouthTest, NorthSouthObjectsDeleteAndMissingOk) {
  Populate();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_FLOATING_IP, "nope"), v1::STATUS_NOT_FOUND,
                      {"no floating IP 'nope'"}));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_FLOATING_IP_GATEWAY, "nope"), v1::STATUS_NOT_FOUND,
                      {"no floating IP gateway 'nope'"}));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_SNAT_BINDING, "nope"), v1::STATUS_NOT_FOUND,
                      {"no SNAT binding 'nope'"}));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SNAT_BINDING, "nope", false, true)));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_FLOATING_IP, "fip1")));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_FLOATING_IP_GATEWAY, "fg1")));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SNAT_BINDING, "r1")));
  EXPECT_EQ(Count(v1::OBJECT_KIND_FLOATING_IP), 0u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_FLOATING_IP_GATEWAY), 0u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_SNAT_BINDING), 0u);
  // The addresses are free again.
  ASSERT_TRUE(IsOk(Upsert({MakeFip("fip9", "r1", "203.0.113.2", "10.0.0.10", "p1")})));
}

// A cascade removes a network's VM ports; their floating IPs go with them (as when the VM port
// itself is deleted with a cascade), or the whole delete must say why not.
TEST_F(TenantNorthSouthTest, NetworkCascadeTakesTheVmPortsFloatingIps) {
  Populate();
  const auto e = Remove(v1::OBJECT_KIND_NETWORK, "n1", true);
  EXPECT_TRUE(IsOk(e));
  EXPECT_FALSE(model_.networks().contains("n1"));
  EXPECT_FALSE(model_.floating_ips().contains("fip1"));
}

// Same through a remote host: its VM ports are cascaded, so are their floating IPs.
TEST_F(TenantNorthSouthTest, RemoteHostCascadeTakesTheVmPortsFloatingIps) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({MakePort("p-hv2", "n1", "fa:16:3e:00:00:20", {"10.0.0.20"}, "", "hv2"),
                           MakeFip("fip-hv2", "r1", "203.0.113.60", "10.0.0.20", "p-hv2")})));
  const auto e = Remove(v1::OBJECT_KIND_REMOTE_HOST, "hv2", true);
  EXPECT_TRUE(IsOk(e));
  EXPECT_FALSE(model_.vm_ports().contains("p-hv2"));
  EXPECT_FALSE(model_.floating_ips().contains("fip-hv2"));
}

// A router interface naming an unknown subnet is refused with NOT_FOUND, even when its router
// has floating IPs (their rule walks the router's interfaces).
TEST_F(TenantNorthSouthTest, InterfaceWithUnknownSubnetOnARouterWithFloatingIps) {
  Populate();
  const std::string before = Snapshot();
  std::optional<ModelError> e;
  EXPECT_NO_THROW(e = Upsert({MakeInterface("ri-bad", "r1", "nope", "fa:16:3e:00:00:02")}));
  EXPECT_TRUE(IsError(e, v1::STATUS_NOT_FOUND,
                      {"router interface 'ri-bad' refers to unknown subnet 'nope'"}));
  EXPECT_EQ(Snapshot(), before);
}

// --- Which routers this host routes ----------------------------------------------------------

TEST_F(TenantNorthSouthTest, RoutesHereDvrSnat) {
  Populate();
  ASSERT_TRUE(IsOk(Upsert({
      MakeRouter("c-here", false, "ext", "203.0.113.21", true),
      MakeRouter("c-there", false, "ext", "203.0.113.22", true),
      MakeRouter("c-none", false),
      MakeRouter("d-there", true, "ext", "203.0.113.23", true),
      MakeRouter("d-none", std::nullopt),
      MakeSnat("c-here", kHostId),
      MakeSnat("c-there", "hv2"),
      MakeSnat("d-there", "hv2"),
  })));
  EXPECT_EQ(model_.agent_mode(), v1::AGENT_MODE_DVR_SNAT);
  EXPECT_TRUE(model_.routes_here(Router("r1")));  // distributed, SNAT here
  EXPECT_TRUE(model_.routes_here(Router("c-here")));
  EXPECT_FALSE(model_.routes_here(Router("c-there")));
  EXPECT_FALSE(model_.routes_here(Router("c-none")));
  EXPECT_TRUE(model_.routes_here(Router("d-there")));
  EXPECT_TRUE(model_.routes_here(Router("d-none")));
  EXPECT_EQ(model_.snat_host_of("c-here"), kHostId);
  EXPECT_EQ(model_.snat_host_of("c-there"), "hv2");
  EXPECT_EQ(model_.snat_host_of("c-none"), "");
}

TEST_F(TenantNorthSouthTest, RoutesHereDvr) {
  Populate();
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("c-there", false, "ext", "203.0.113.22", true),
                   MakeRouter("c-none", false), MakeSnat("c-there", "hv2"), MakeSnat("r1", "hv2")},
                  true)));
  ASSERT_TRUE(IsOk(model_.set_host(Host(v1::AGENT_MODE_DVR))));
  EXPECT_TRUE(model_.routes_here(Router("r1")));  // distributed: every compute host
  EXPECT_FALSE(model_.routes_here(Router("c-there")));
  EXPECT_FALSE(model_.routes_here(Router("c-none")));
  // The host default decides for a router that left `distributed` unset.
  v1::HostIdentity h = Host(v1::AGENT_MODE_DVR);
  h.set_distributed_default(false);
  ASSERT_TRUE(IsOk(model_.set_host(h)));
  EXPECT_FALSE(model_.routes_here(Router("r1")));
}

TEST_F(TenantNorthSouthTest, RoutesHereLegacy) {
  Populate();
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SNAT_BINDING, "r1")));
  ASSERT_TRUE(IsOk(Upsert({
      MakeRouter("c-here", false, "ext", "203.0.113.21", true),
      MakeRouter("c-there", false, "ext", "203.0.113.22", true),
      MakeRouter("c-none", false),
      MakeRouter("d-there", true, "ext", "203.0.113.23", true),
      MakeSnat("c-here", kHostId),
      MakeSnat("c-there", "hv2"),
      MakeSnat("d-there", "hv2"),
  })));
  ASSERT_TRUE(IsOk(model_.set_host(Host(v1::AGENT_MODE_LEGACY))));
  EXPECT_FALSE(model_.routes_here(Router("r1")));  // distributed: never on a legacy host
  EXPECT_TRUE(model_.routes_here(Router("c-here")));
  EXPECT_FALSE(model_.routes_here(Router("c-there")));
  EXPECT_FALSE(model_.routes_here(Router("c-none")));
  EXPECT_FALSE(model_.routes_here(Router("d-there")));
}

// Without a host id nothing is "bound here", whatever the mode.
TEST_F(TenantNorthSouthTest, RoutesHereWithoutAHostId) {
  ASSERT_TRUE(IsOk(Upsert({MakeRemoteHost("hv2", "192.0.2.20", "fa:16:3f:00:00:02"),
                           MakeRouter("c", false), MakeRouter("d", true), MakeSnat("c", "hv2")})));
  for (v1::AgentMode m : {v1::AGENT_MODE_DVR, v1::AGENT_MODE_DVR_SNAT, v1::AGENT_MODE_LEGACY}) {
    v1::HostIdentity h;
    h.set_agent_mode(m);
    ASSERT_TRUE(IsOk(model_.set_host(h)));
    EXPECT_FALSE(model_.routes_here(Router("c"))) << m;
    EXPECT_EQ(model_.routes_here(Router("d")), m != v1::AGENT_MODE_LEGACY) << m;
    EXPECT_EQ(model_.local_fip_gateway("ext"), nullptr);
  }
}

// --- Listing ---------------------------------------------------------------------------------

TEST_F(TenantNorthSouthTest, ListsNorthSouthObjectsAsStored) {
  Populate();
  const v1::ObjectList fips = model_.list(v1::OBJECT_KIND_FLOATING_IP);
  ASSERT_EQ(fips.objects_size(), 1);
  EXPECT_EQ(fips.objects(0).floating_ip().id(), "fip1");
  EXPECT_EQ(fips.objects(0).floating_ip().vm_port_id(), "p1");
  const v1::ObjectList gws = model_.list(v1::OBJECT_KIND_FLOATING_IP_GATEWAY);
  ASSERT_EQ(gws.objects_size(), 1);
  EXPECT_EQ(gws.objects(0).floating_ip_gateway().mac(), kExtMac);
  const v1::ObjectList snat = model_.list(v1::OBJECT_KIND_SNAT_BINDING);
  ASSERT_EQ(snat.objects_size(), 1);
  EXPECT_EQ(snat.objects(0).snat_binding().router_id(), "r1");
  EXPECT_EQ(snat.objects(0).snat_binding().ports().min(), 1024u);
  // Sent back unchanged, everything is idempotent.
  std::vector<v1::Object> again;
  for (v1::ObjectKind k : kKinds) {
    const v1::ObjectList list = model_.list(k);
    for (const auto& o : list.objects()) again.push_back(o);
  }
  const std::string before = Snapshot();
  EXPECT_TRUE(IsOk(Upsert(again)));
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace dvr
