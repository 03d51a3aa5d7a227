// The tenant model (control/tenant/tenant_model.h): references, overlap and uniqueness rules,
// limits, cascading deletes, idempotent upserts, normalization and transactions. Pure code: no
// EAL, no dataplane.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
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

v1::Object MakeRouter(const std::string& id, std::optional<bool> distributed = std::nullopt) {
  v1::Object o;
  v1::Router* r = o.mutable_router();
  r->set_id(id);
  r->set_tenant_id("tenant");
  r->set_name("router " + id);
  r->set_admin_state_up(true);
  if (distributed) r->set_distributed(*distributed);
  return o;
}

v1::Object MakeNetwork(const std::string& id, uint32_t segmentation_id, uint32_t mtu = 0) {
  v1::Object o;
  v1::Network* n = o.mutable_network();
  n->set_id(id);
  n->set_tenant_id("tenant");
  n->set_segmentation_id(segmentation_id);
  n->set_mtu(mtu);
  return o;
}

v1::Object MakeSubnet(const std::string& id, const std::string& network, const std::string& cidr,
                      const std::string& gateway = "") {
  v1::Object o;
  v1::Subnet* s = o.mutable_subnet();
  s->set_id(id);
  s->set_network_id(network);
  s->set_cidr(cidr);
  s->set_gateway_ip(gateway);
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
                    const std::vector<std::string>& ips, const std::string& dataplane_port = "") {
  v1::Object o;
  v1::VmPort* p = o.mutable_vm_port();
  p->set_id(id);
  p->set_network_id(network);
  p->set_mac(mac);
  for (const auto& ip : ips) p->add_fixed_ips(ip);
  p->set_dataplane_port(dataplane_port);
  return o;
}

v1::Object MakeRoute(const std::string& id, const std::string& router,
                     const std::string& destination, const std::string& nexthop) {
  v1::Object o;
  v1::StaticRoute* r = o.mutable_static_route();
  r->set_id(id);
  r->set_router_id(router);
  r->set_destination(destination);
  r->set_nexthop(nexthop);
  return o;
}

// A complete tenant "<t>": router <t>-r, network <t>-n (10.0.0.0/24 in subnet <t>-s, attached by
// <t>-ri), VM port <t>-p at 10.0.0.10 bound to dataplane port <t>-vm, and a static route <t>-sr
// to 192.168.0.0/16 through that VM. Every tenant uses the same CIDRs, MACs and IPs.
constexpr const char* kGwMac = "fa:16:3e:00:00:01";
constexpr const char* kVmMac = "fa:16:3e:00:00:10";

std::vector<v1::Object> Tenant(const std::string& t, uint32_t segmentation_id) {
  return {MakeRouter(t + "-r"),
          MakeNetwork(t + "-n", segmentation_id),
          MakeSubnet(t + "-s", t + "-n", "10.0.0.0/24"),
          MakeInterface(t + "-ri", t + "-r", t + "-s", kGwMac),
          MakePort(t + "-p", t + "-n", kVmMac, {"10.0.0.10"}, t + "-vm"),
          MakeRoute(t + "-sr", t + "-r", "192.168.0.0/16", "10.0.0.10")};
}

// --- Assertions ------------------------------------------------------------------------------

using test::IsError;
using test::IsOk;

constexpr v1::ObjectKind kKinds[] = {
    v1::OBJECT_KIND_ROUTER,           v1::OBJECT_KIND_NETWORK, v1::OBJECT_KIND_SUBNET,
    v1::OBJECT_KIND_ROUTER_INTERFACE, v1::OBJECT_KIND_VM_PORT, v1::OBJECT_KIND_STATIC_ROUTE,
};

class TenantModelTest : public ::testing::Test {
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

  // Everything list() reports, for "the model did not change" checks.
  std::string Snapshot() const {
    std::string out;
    for (v1::ObjectKind k : kKinds) {
      out += v1::ObjectKind_Name(k) + ":\n" + model_.list(k).DebugString();
    }
    return out;
  }
  size_t Count(v1::ObjectKind kind) const {
    return static_cast<size_t>(model_.list(kind).objects_size());
  }
  size_t Total() const {
    size_t n = 0;
    for (v1::ObjectKind k : kKinds) n += Count(k);
    return n;
  }

  TenantModel model_;
};

// --- Unknown references ----------------------------------------------------------------------

TEST_F(TenantModelTest, SubnetOnUnknownNetworkIsNotFound) {
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("s1", "ghost", "10.0.0.0/24")}), v1::STATUS_NOT_FOUND,
                      {"'s1'", "'ghost'"}));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(TenantModelTest, InterfaceOnUnknownRouterIsNotFound) {
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24"),
                              MakeInterface("ri1", "ghost", "s1", kGwMac)}),
                      v1::STATUS_NOT_FOUND, {"'ri1'", "'ghost'", "router"}));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(TenantModelTest, InterfaceOnUnknownSubnetIsNotFound) {
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r1"), MakeInterface("ri1", "r1", "ghost", kGwMac)}),
                      v1::STATUS_NOT_FOUND, {"'ri1'", "'ghost'", "subnet"}));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(TenantModelTest, VmPortOnUnknownNetworkIsNotFound) {
  EXPECT_TRUE(IsError(Upsert({MakePort("p1", "ghost", kVmMac, {})}), v1::STATUS_NOT_FOUND,
                      {"'p1'", "'ghost'"}));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(TenantModelTest, StaticRouteOnUnknownRouterIsNotFound) {
  EXPECT_TRUE(IsError(Upsert({MakeRoute("sr1", "ghost", "192.168.0.0/16", "10.0.0.10")}),
                      v1::STATUS_NOT_FOUND, {"'sr1'", "'ghost'"}));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(TenantModelTest, ReferencesResolveWithinOneBatchInAnyOrder) {
  auto objs = Tenant("a", 100);
  std::reverse(objs.begin(), objs.end());  // dependants before what they depend on
  ASSERT_TRUE(IsOk(Upsert(objs)));
  for (v1::ObjectKind k : kKinds) EXPECT_EQ(Count(k), 1u) << v1::ObjectKind_Name(k);
}

// --- Overlaps: per router and per network, never across routers ------------------------------

TEST_F(TenantModelTest, OverlappingSubnetsOnOneRouterConflict) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  // Another network whose subnet (10.0.0.0/16) contains a-s (10.0.0.0/24), on the same router.
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.0.0/16"),
                              MakeInterface("ri2", "a-r", "s2", "fa:16:3e:00:00:02")}),
                      v1::STATUS_CONFLICT, {"'a-r'", "10.0.0.0/16", "10.0.0.0/24"}));
  // The identical CIDR, too.
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.0.0/24"),
                              MakeInterface("ri2", "a-r", "s2", "fa:16:3e:00:00:02")}),
                      v1::STATUS_CONFLICT, {"'a-r'", "10.0.0.0/24"}));
  EXPECT_EQ(Snapshot(), before);
  // A disjoint one is fine, and it is the overlap (not the second interface) that was refused.
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.1.0/24"),
                           MakeInterface("ri2", "a-r", "s2", "fa:16:3e:00:00:02")})));
}

TEST_F(TenantModelTest, OverlappingSubnetsOnOneNetworkConflict) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24")})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("s2", "n1", "10.0.0.128/25")}), v1::STATUS_CONFLICT,
                      {"'s1'", "'s2'", "10.0.0.128/25", "10.0.0.0/24", "'n1'"}));
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("s2", "n1", "10.0.0.0/16")}), v1::STATUS_CONFLICT,
                      {"'s1'", "'s2'", "10.0.0.0/16", "'n1'"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s2", "n1", "10.0.1.0/24")})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_SUBNET), 2u);
}

TEST_F(TenantModelTest, SameSubnetOnTwoNetworksIsFine) {
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24"),
                           MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.0.0/24")})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_SUBNET), 2u);
}

TEST_F(TenantModelTest, SameCidrsMacsAndIpsOnTwoTenantsAreFine) {
  // Every router is its own VRF and every network its own L2 domain.
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert(Tenant("b", 200))));
  for (v1::ObjectKind k : kKinds) EXPECT_EQ(Count(k), 2u) << v1::ObjectKind_Name(k);
}

TEST_F(TenantModelTest, OneSubnetAttachedTwiceConflicts) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2"), MakeInterface("ri2", "r2", "a-s", kGwMac)}),
                      v1::STATUS_CONFLICT, {"'a-s'", "'a-ri'"}));
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER), 1u);
}

// --- Addresses inside subnets ----------------------------------------------------------------

TEST_F(TenantModelTest, VmIpOutsideTheNetworksSubnetsIsInvalid) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  // 10.0.1.5 exists on nobody's subnet; 10.0.0.5 is inside b's subnet but not a's network.
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("b-n", 200), MakeSubnet("b-s", "b-n", "10.0.1.0/24")})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.1.5"})}),
                      v1::STATUS_INVALID_ARGUMENT, {"'p2'", "10.0.1.5", "'a-n'"}));
  EXPECT_TRUE(
      IsError(Upsert({MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.5", "172.16.0.1"})}),
              v1::STATUS_INVALID_ARGUMENT, {"'p2'", "172.16.0.1", "'a-n'"}));
  EXPECT_TRUE(IsError(Upsert({MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.300"})}),
                      v1::STATUS_INVALID_ARGUMENT, {"'p2'", "'10.0.0.300'"}));
  // A port on a network without any subnet has nowhere to put an IP.
  EXPECT_TRUE(IsError(
      Upsert({MakeNetwork("n3", 300), MakePort("p3", "n3", "fa:16:3e:00:00:30", {"10.0.0.5"})}),
      v1::STATUS_INVALID_ARGUMENT, {"'p3'", "10.0.0.5", "'n3'"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, GatewayIpAsVmIpConflicts) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.1"})}),
                      v1::STATUS_CONFLICT, {"'p2'", "10.0.0.1", "'a-s'"}));
  // An explicit gateway is the one protected.
  ASSERT_TRUE(IsOk(
      Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "172.16.0.0/24", "172.16.0.254")})));
  EXPECT_TRUE(IsError(Upsert({MakePort("p2", "n2", "fa:16:3e:00:00:20", {"172.16.0.254"})}),
                      v1::STATUS_CONFLICT, {"'p2'", "172.16.0.254", "'s2'"}));
  EXPECT_TRUE(IsOk(Upsert({MakePort("p2", "n2", "fa:16:3e:00:00:20", {"172.16.0.1"})})));
}

TEST_F(TenantModelTest, GatewayMustBeAHostAddressInsideTheSubnet) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100)})));
  for (const char* gw :
       {"10.0.1.1", "10.0.0.0", "10.0.0.255", "9.255.255.255", "junk", "10.0.0.01"}) {
    EXPECT_TRUE(IsError(Upsert({MakeSubnet("s1", "n1", "10.0.0.0/24", gw)}),
                        v1::STATUS_INVALID_ARGUMENT, {"'s1'", std::string("'") + gw + "'"}))
        << gw;
  }
  EXPECT_EQ(Count(v1::OBJECT_KIND_SUBNET), 0u);
  // /30: .0 network, .3 broadcast, .1 and .2 usable.
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("s2", "n1", "10.9.0.4/30", "10.9.0.7")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'s2'", "10.9.0.7"}));
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s2", "n1", "10.9.0.4/30", "10.9.0.6")})));
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s1", "n1", "10.0.0.0/24", "10.0.0.254")})));
}

TEST_F(TenantModelTest, SubnetCidrMustBeANetworkFromSlash1ToSlash30) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100)})));
  for (const char* cidr : {"10.0.0.1/24", "10.0.0.0/31", "10.0.0.0/32", "0.0.0.0/0", "10.0.0.0",
                           "10.0.0.0/33", "10.0.0/24", "", "fe80::/64"}) {
    EXPECT_TRUE(IsError(Upsert({MakeSubnet("s1", "n1", cidr)}), v1::STATUS_INVALID_ARGUMENT,
                        {"'s1'", std::string("'") + cidr + "'"}))
        << cidr;
  }
  EXPECT_EQ(Count(v1::OBJECT_KIND_SUBNET), 0u);
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s1", "n1", "10.0.0.4/30")})));
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s2", "n1", "128.0.0.0/1")})));
}

// --- MAC and IP uniqueness per network; dataplane port bindings ------------------------------

TEST_F(TenantModelTest, DuplicateMacOfTwoVmPortsOnOneNetworkConflicts) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakePort("a-p2", "a-n", kVmMac, {"10.0.0.11"})}), v1::STATUS_CONFLICT,
                      {kVmMac, "'a-p'", "'a-p2'", "'a-n'"}));
  // The comparison is on the normalized MAC.
  EXPECT_TRUE(IsError(Upsert({MakePort("a-p2", "a-n", "FA:16:3E:00:00:10", {"10.0.0.11"})}),
                      v1::STATUS_CONFLICT, {kVmMac, "'a-p'", "'a-p2'"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, VmPortWithARouterInterfacesMacConflicts) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakePort("a-p2", "a-n", "FA:16:3E:00:00:01", {"10.0.0.11"})}),
                      v1::STATUS_CONFLICT, {kGwMac, "'a-p2'", "'a-ri'", "'a-n'"}));
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), 1u);
}

TEST_F(TenantModelTest, TwoRouterInterfacesWithOneMacOnOneNetworkConflict) {
  // Two routers on two disjoint subnets of one network, answering ARP with the same MAC.
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("a-s2", "a-n", "10.0.1.0/24"), MakeRouter("r2"),
                              MakeInterface("ri2", "r2", "a-s2", kGwMac)}),
                      v1::STATUS_CONFLICT, {kGwMac, "'a-n'", "'a-ri'"}));
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("a-s2", "a-n", "10.0.1.0/24"), MakeRouter("r2"),
                           MakeInterface("ri2", "r2", "a-s2", "fa:16:3e:00:00:02")})));
}

TEST_F(TenantModelTest, SameMacOnTwoNetworksIsFine) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.0.0/24")})));
  EXPECT_TRUE(IsOk(Upsert({MakePort("p2", "n2", kVmMac, {"10.0.0.11"})})));
  EXPECT_TRUE(IsOk(Upsert({MakePort("p3", "n2", kGwMac, {"10.0.0.12"})})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), 3u);
}

TEST_F(TenantModelTest, DuplicateIpOnOneNetworkConflicts) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakePort("a-p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.10"})}),
                      v1::STATUS_CONFLICT, {"10.0.0.10", "'a-p'", "'a-p2'", "'a-n'"}));
  // Twice within one port's own list, too.
  EXPECT_TRUE(
      IsError(Upsert({MakePort("a-p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.11", "10.0.0.11"})}),
              v1::STATUS_CONFLICT, {"10.0.0.11", "'a-p2'"}));
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), 1u);
}

TEST_F(TenantModelTest, SameIpOnTwoNetworksIsFine) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.0.0/24")})));
  EXPECT_TRUE(IsOk(Upsert({MakePort("p2", "n2", "fa:16:3e:00:00:20", {"10.0.0.10"})})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), 2u);
}

TEST_F(TenantModelTest, DataplanePortBoundTwiceConflicts) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert(Tenant("b", 200))));
  const std::string before = Snapshot();
  // On the same network and on another one: a dataplane port carries exactly one VM.
  EXPECT_TRUE(IsError(Upsert({MakePort("a-p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.11"}, "a-vm")}),
                      v1::STATUS_CONFLICT, {"'a-vm'", "'a-p'"}));
  EXPECT_TRUE(IsError(Upsert({MakePort("b-p2", "b-n", "fa:16:3e:00:00:20", {"10.0.0.11"}, "a-vm")}),
                      v1::STATUS_CONFLICT, {"'a-vm'", "'a-p'"}));
  EXPECT_EQ(Snapshot(), before);

  ASSERT_NE(model_.port_bound_to("a-vm"), nullptr);
  EXPECT_EQ(model_.port_bound_to("a-vm")->id(), "a-p");
  EXPECT_EQ(model_.port_bound_to("b-vm")->id(), "b-p");
  EXPECT_EQ(model_.port_bound_to("nobody"), nullptr);
  // Unbound ports (VMs on other hosts) never collide with each other.
  EXPECT_TRUE(IsOk(Upsert({MakePort("a-p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.11"}),
                           MakePort("a-p3", "a-n", "fa:16:3e:00:00:30", {"10.0.0.12"})})));
}

// --- Static routes ---------------------------------------------------------------------------

TEST_F(TenantModelTest, StaticRouteNextHopMustBeOnAnAttachedSubnet) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(
      Upsert({MakeRouter("b-r"), MakeNetwork("b-n", 200), MakeSubnet("b-s", "b-n", "10.0.1.0/24"),
              MakeInterface("b-ri", "b-r", "b-s", kGwMac)})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeRoute("sr2", "a-r", "172.16.0.0/12", "10.0.5.1")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'sr2'", "10.0.5.1", "'a-r'"}));
  // On a subnet, but one attached to another router.
  EXPECT_TRUE(IsError(Upsert({MakeRoute("sr2", "a-r", "172.16.0.0/12", "10.0.1.20")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'sr2'", "10.0.1.20", "'a-r'"}));
  // A router without interfaces has no next hop at all.
  EXPECT_TRUE(IsError(Upsert({MakeRouter("c-r"), MakeRoute("sr3", "c-r", "0.0.0.0/0", "10.0.0.9")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'sr3'", "10.0.0.9", "'c-r'"}));
  EXPECT_TRUE(IsError(Upsert({MakeRoute("sr2", "a-r", "172.16.0.0/12", "bogus")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'sr2'", "'bogus'"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(IsOk(Upsert({MakeRoute("sr2", "b-r", "172.16.0.0/12", "10.0.1.20")})));
  EXPECT_TRUE(IsOk(Upsert({MakeRoute("sr4", "a-r", "0.0.0.0/0", "10.0.0.99")})));
}

TEST_F(TenantModelTest, StaticRouteDestinationWithHostBitsIsInvalid) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  for (const char* dest : {"192.168.1.1/16", "172.16.0.0/33", "172.16.0/12", "any", ""}) {
    EXPECT_TRUE(IsError(Upsert({MakeRoute("sr2", "a-r", dest, "10.0.0.10")}),
                        v1::STATUS_INVALID_ARGUMENT, {"'sr2'", std::string("'") + dest + "'"}))
        << dest;
  }
  EXPECT_EQ(Count(v1::OBJECT_KIND_STATIC_ROUTE), 1u);
  // A bare address is a /32 and is stored as one.
  ASSERT_TRUE(IsOk(Upsert({MakeRoute("sr2", "a-r", "192.168.7.7", "10.0.0.10")})));
  EXPECT_EQ(model_.static_routes().at("sr2").destination(), "192.168.7.7/32");
}

// --- Deletes ---------------------------------------------------------------------------------

TEST_F(TenantModelTest, DeleteRouterWithInterfacesNeedsCascade) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_ROUTER, "a-r"), v1::STATUS_CONFLICT,
                      {"router 'a-r'", "'a-ri'"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, DeleteRouterWithCascadeTakesItsInterfacesAndRoutes) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert(Tenant("b", 200))));
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("a-n2", 101), MakeSubnet("a-s2", "a-n2", "10.0.1.0/24"),
                           MakeInterface("a-ri2", "a-r", "a-s2", kGwMac),
                           MakeRoute("a-sr2", "a-r", "172.16.0.0/12", "10.0.1.50")})));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER, "a-r", /*cascade=*/true)));
  EXPECT_FALSE(model_.routers().contains("a-r"));
  EXPECT_FALSE(model_.interfaces().contains("a-ri"));
  EXPECT_FALSE(model_.interfaces().contains("a-ri2"));
  EXPECT_FALSE(model_.static_routes().contains("a-sr"));
  EXPECT_FALSE(model_.static_routes().contains("a-sr2"));
  // The networks, subnets and ports stay; tenant b is untouched.
  EXPECT_TRUE(model_.networks().contains("a-n"));
  EXPECT_TRUE(model_.subnets().contains("a-s"));
  EXPECT_TRUE(model_.subnets().contains("a-s2"));
  EXPECT_TRUE(model_.vm_ports().contains("a-p"));
  for (v1::ObjectKind k :
       {v1::OBJECT_KIND_ROUTER, v1::OBJECT_KIND_ROUTER_INTERFACE, v1::OBJECT_KIND_STATIC_ROUTE}) {
    EXPECT_EQ(Count(k), 1u) << v1::ObjectKind_Name(k);
  }
  EXPECT_TRUE(model_.routers().contains("b-r"));
  EXPECT_TRUE(model_.interfaces().contains("b-ri"));
  EXPECT_TRUE(model_.static_routes().contains("b-sr"));
}

TEST_F(TenantModelTest, DeleteNetworkWithSubnetsOrPortsNeedsCascade) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_NETWORK, "a-n"), v1::STATUS_CONFLICT,
                      {"network 'a-n'", "'a-p'"}));
  EXPECT_EQ(Snapshot(), before);
  // Subnets alone hold it too.
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200), MakeSubnet("s2", "n2", "10.0.0.0/24")})));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_NETWORK, "n2"), v1::STATUS_CONFLICT,
                      {"network 'n2'", "'s2'"}));
  EXPECT_TRUE(model_.networks().contains("n2"));
  EXPECT_TRUE(model_.subnets().contains("s2"));
  // An empty network goes.
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n3", 300)})));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_NETWORK, "n3")));
  EXPECT_FALSE(model_.networks().contains("n3"));
}

TEST_F(TenantModelTest, DeleteNetworkWithCascadeTakesEverythingUnderIt) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert(Tenant("b", 200))));
  // A second subnet and port on a-n, and a second network on a's router that must survive.
  ASSERT_TRUE(IsOk(Upsert({MakeSubnet("a-s2", "a-n", "10.0.1.0/24"), MakeRouter("r2"),
                           MakeInterface("ri2", "r2", "a-s2", "fa:16:3e:00:00:02"),
                           MakePort("a-p2", "a-n", "fa:16:3e:00:00:20", {"10.0.1.20"}),
                           MakeNetwork("a-n2", 101), MakeSubnet("a-s3", "a-n2", "10.0.2.0/24"),
                           MakeInterface("a-ri3", "a-r", "a-s3", kGwMac),
                           MakeRoute("a-sr3", "a-r", "172.16.0.0/12", "10.0.2.50")})));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_NETWORK, "a-n", /*cascade=*/true)));
  EXPECT_FALSE(model_.networks().contains("a-n"));
  EXPECT_FALSE(model_.subnets().contains("a-s"));
  EXPECT_FALSE(model_.subnets().contains("a-s2"));
  EXPECT_FALSE(model_.vm_ports().contains("a-p"));
  EXPECT_FALSE(model_.vm_ports().contains("a-p2"));
  EXPECT_FALSE(model_.interfaces().contains("a-ri"));
  EXPECT_FALSE(model_.interfaces().contains("ri2"));
  EXPECT_FALSE(model_.static_routes().contains("a-sr"));  // its next hop was on a-s
  // Routers stay (only their attachments go), as do a's other network and tenant b.
  EXPECT_TRUE(model_.routers().contains("a-r"));
  EXPECT_TRUE(model_.routers().contains("r2"));
  EXPECT_TRUE(model_.networks().contains("a-n2"));
  EXPECT_TRUE(model_.interfaces().contains("a-ri3"));
  EXPECT_TRUE(model_.static_routes().contains("a-sr3"));
  EXPECT_TRUE(model_.vm_ports().contains("b-p"));
  EXPECT_TRUE(model_.static_routes().contains("b-sr"));
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 2u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_SUBNET), 2u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER_INTERFACE), 2u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), 1u);
  EXPECT_EQ(Count(v1::OBJECT_KIND_STATIC_ROUTE), 2u);
}

TEST_F(TenantModelTest, DeleteSubnetWithAnInterface) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert({MakeSubnet("a-s2", "a-n", "10.0.1.0/24"),
                           MakePort("a-p2", "a-n", "fa:16:3e:00:00:20", {"10.0.1.20"})})));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_SUBNET, "a-s"), v1::STATUS_CONFLICT,
                      {"subnet 'a-s'", "'a-ri'"}));
  EXPECT_EQ(Snapshot(), before);

  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SUBNET, "a-s", /*cascade=*/true)));
  EXPECT_FALSE(model_.subnets().contains("a-s"));
  EXPECT_FALSE(model_.interfaces().contains("a-ri"));
  EXPECT_FALSE(model_.static_routes().contains("a-sr"));
  EXPECT_FALSE(model_.vm_ports().contains("a-p"));  // its IP was in a-s
  // The network, the router, the other subnet and the port in it stay.
  EXPECT_TRUE(model_.networks().contains("a-n"));
  EXPECT_TRUE(model_.routers().contains("a-r"));
  EXPECT_TRUE(model_.subnets().contains("a-s2"));
  EXPECT_TRUE(model_.vm_ports().contains("a-p2"));
}

TEST_F(TenantModelTest, DeleteSubnetWithVmPortsNeedsCascade) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24"),
                           MakePort("p1", "n1", kVmMac, {"10.0.0.10"})})));
  EXPECT_TRUE(
      IsError(Remove(v1::OBJECT_KIND_SUBNET, "s1"), v1::STATUS_CONFLICT, {"subnet 's1'", "'p1'"}));
  EXPECT_TRUE(model_.vm_ports().contains("p1"));
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SUBNET, "s1", true)));
  EXPECT_FALSE(model_.vm_ports().contains("p1"));
  EXPECT_TRUE(model_.networks().contains("n1"));
}

TEST_F(TenantModelTest, DeleteInterfaceWithStaticRoutesThroughIt) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_ROUTER_INTERFACE, "a-ri"), v1::STATUS_CONFLICT,
                      {"router interface 'a-ri'", "'a-sr'"}));
  EXPECT_EQ(Snapshot(), before);
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER_INTERFACE, "a-ri", true)));
  EXPECT_FALSE(model_.interfaces().contains("a-ri"));
  EXPECT_FALSE(model_.static_routes().contains("a-sr"));
  EXPECT_TRUE(model_.subnets().contains("a-s"));
  EXPECT_TRUE(model_.routers().contains("a-r"));
}

TEST_F(TenantModelTest, DeleteLeavesWithoutCascade) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_STATIC_ROUTE, "a-sr")));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_VM_PORT, "a-p")));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER_INTERFACE, "a-ri")));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_ROUTER, "a-r")));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_SUBNET, "a-s")));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_NETWORK, "a-n")));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(TenantModelTest, DeleteMissingIsNotFoundUnlessMissingOk) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  for (v1::ObjectKind k : kKinds) {
    EXPECT_TRUE(IsError(Remove(k, "ghost"), v1::STATUS_NOT_FOUND, {object_kind_name(k), "'ghost'"}))
        << v1::ObjectKind_Name(k);
    EXPECT_TRUE(IsError(Remove(k, "ghost", /*cascade=*/true), v1::STATUS_NOT_FOUND, {"'ghost'"}))
        << v1::ObjectKind_Name(k);
    EXPECT_TRUE(IsOk(Remove(k, "ghost", false, /*missing_ok=*/true))) << v1::ObjectKind_Name(k);
    EXPECT_TRUE(IsOk(Remove(k, "ghost", true, true))) << v1::ObjectKind_Name(k);
  }
  EXPECT_EQ(Snapshot(), before);
  // missing_ok does not hide other refusals.
  EXPECT_TRUE(
      IsError(Remove(v1::OBJECT_KIND_ROUTER, "a-r", false, true), v1::STATUS_CONFLICT, {"'a-r'"}));
  // A second delete of the same object is a missing one.
  ASSERT_TRUE(IsOk(Remove(v1::OBJECT_KIND_VM_PORT, "a-p")));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_VM_PORT, "a-p"), v1::STATUS_NOT_FOUND, {"'a-p'"}));
  EXPECT_TRUE(IsOk(Remove(v1::OBJECT_KIND_VM_PORT, "a-p", false, true)));
}

// --- Idempotency and normalization -----------------------------------------------------------

TEST_F(TenantModelTest, RepeatingAnIdenticalUpsertChangesNothing) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_EQ(Snapshot(), before);
  // Also one object at a time, and with replace.
  for (const auto& o : Tenant("a", 100)) EXPECT_TRUE(IsOk(Upsert({o})));
  EXPECT_TRUE(IsOk(Upsert(Tenant("a", 100), /*replace=*/true)));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, ChangingAnObjectNeedsReplace) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();

  v1::Object renamed = MakeRouter("a-r");
  renamed.mutable_router()->set_name("renamed");
  EXPECT_TRUE(IsError(Upsert({renamed}), v1::STATUS_ALREADY_EXISTS, {"router 'a-r'", "replace"}));
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("a-n", 100, 9000)}), v1::STATUS_ALREADY_EXISTS,
                      {"network 'a-n'"}));
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("a-s", "a-n", "10.0.0.0/24", "10.0.0.254")}),
                      v1::STATUS_ALREADY_EXISTS, {"subnet 'a-s'"}));
  EXPECT_TRUE(IsError(Upsert({MakeInterface("a-ri", "a-r", "a-s", "fa:16:3e:00:00:02")}),
                      v1::STATUS_ALREADY_EXISTS, {"router interface 'a-ri'"}));
  EXPECT_TRUE(IsError(Upsert({MakePort("a-p", "a-n", kVmMac, {"10.0.0.11"}, "a-vm")}),
                      v1::STATUS_ALREADY_EXISTS, {"VM port 'a-p'"}));
  EXPECT_TRUE(IsError(Upsert({MakeRoute("a-sr", "a-r", "192.168.0.0/24", "10.0.0.10")}),
                      v1::STATUS_ALREADY_EXISTS, {"static route 'a-sr'"}));
  // In a batch, the whole batch is refused.
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2"), renamed}), v1::STATUS_ALREADY_EXISTS, {"'a-r'"}));
  EXPECT_EQ(Snapshot(), before);

  ASSERT_TRUE(IsOk(Upsert({renamed}, /*replace=*/true)));
  EXPECT_EQ(model_.routers().at("a-r").name(), "renamed");
  ASSERT_TRUE(IsOk(Upsert({MakePort("a-p", "a-n", kVmMac, {"10.0.0.11"}, "a-vm")}, true)));
  ASSERT_EQ(model_.vm_ports().at("a-p").fixed_ips_size(), 1);
  EXPECT_EQ(model_.vm_ports().at("a-p").fixed_ips(0), "10.0.0.11");
  EXPECT_NE(Snapshot(), before);
  // The replaced contents are now the identical ones.
  EXPECT_TRUE(IsOk(Upsert({renamed})));
}

TEST_F(TenantModelTest, ReplaceThatBreaksAnInvariantChangesNothing) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  // Moving the subnet away from the VM's IP and the route's next hop.
  EXPECT_TRUE(IsError(Upsert({MakeSubnet("a-s", "a-n", "10.0.1.0/24")}, true),
                      v1::STATUS_INVALID_ARGUMENT, {"'a-p'", "10.0.0.10"}));
  EXPECT_TRUE(
      IsError(Upsert({MakeNetwork("a-n", 0)}, true), v1::STATUS_INVALID_ARGUMENT, {"'a-n'"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, MacsAreNormalizedToLowerCase) {
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("r1"), MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24"),
                   MakeInterface("ri1", "r1", "s1", "FA:16:3E:00:00:01"),
                   MakePort("p1", "n1", "AA:BB:CC:DD:EE:01", {"10.0.0.10"})})));
  EXPECT_EQ(model_.vm_ports().at("p1").mac(), "aa:bb:cc:dd:ee:01");
  EXPECT_EQ(model_.interfaces().at("ri1").gateway_mac(), "fa:16:3e:00:00:01");
  const std::string before = Snapshot();
  // The lower-case spelling is the same object, not a change.
  EXPECT_TRUE(IsOk(Upsert({MakeInterface("ri1", "r1", "s1", "fa:16:3e:00:00:01"),
                           MakePort("p1", "n1", "aa:bb:cc:dd:ee:01", {"10.0.0.10"})})));
  EXPECT_TRUE(IsOk(Upsert({MakePort("p1", "n1", "Aa:bB:cc:DD:ee:01", {"10.0.0.10"})})));
  EXPECT_EQ(Snapshot(), before);

  // Allowed address pair MACs too.
  v1::Object p2 = MakePort("p2", "n1", "aa:bb:cc:dd:ee:02", {"10.0.0.11"});
  v1::AllowedAddressPair* pair = p2.mutable_vm_port()->add_allowed_address_pairs();
  pair->set_ip_prefix("10.0.0.128/25");
  pair->set_mac("AA:BB:CC:DD:EE:99");
  ASSERT_TRUE(IsOk(Upsert({p2})));
  EXPECT_EQ(model_.vm_ports().at("p2").allowed_address_pairs(0).mac(), "aa:bb:cc:dd:ee:99");
}

TEST_F(TenantModelTest, NonUnicastOrMalformedMacsAreInvalid) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  for (const char* mac : {"01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00",
                          "fa-16-3e-00-00-20", "fa:16:3e:00:00", ""}) {
    EXPECT_TRUE(IsError(Upsert({MakePort("p2", "a-n", mac, {"10.0.0.11"})}),
                        v1::STATUS_INVALID_ARGUMENT, {"'p2'", std::string("'") + mac + "'"}))
        << mac;
    EXPECT_TRUE(IsError(Upsert({MakeInterface("a-ri", "a-r", "a-s", mac)}, true),
                        v1::STATUS_INVALID_ARGUMENT, {"'a-ri'", std::string("'") + mac + "'"}))
        << mac;
  }
  v1::Object p2 = MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.11"});
  v1::AllowedAddressPair* pair = p2.mutable_vm_port()->add_allowed_address_pairs();
  pair->set_ip_prefix("10.0.0.128/25");
  pair->set_mac("01:00:5e:00:00:01");
  EXPECT_TRUE(IsError(Upsert({p2}), v1::STATUS_INVALID_ARGUMENT,
                      {"'p2'", "allowed address pair", "'01:00:5e:00:00:01'"}));
  pair->set_mac("");
  pair->set_ip_prefix("10.0.0.300/25");
  EXPECT_TRUE(IsError(Upsert({p2}), v1::STATUS_INVALID_ARGUMENT, {"'p2'", "'10.0.0.300/25'"}));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, SubnetWithoutGatewayGetsDotOne) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.0/24"),
                           MakeSubnet("s2", "n1", "192.168.4.0/22")})));
  EXPECT_EQ(model_.subnets().at("s1").gateway_ip(), "10.0.0.1");
  EXPECT_EQ(model_.subnets().at("s2").gateway_ip(), "192.168.4.1");
  const std::string before = Snapshot();
  // Resent without a gateway, or with the default one spelled out: the same object.
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s1", "n1", "10.0.0.0/24")})));
  EXPECT_TRUE(IsOk(Upsert({MakeSubnet("s1", "n1", "10.0.0.0/24", "10.0.0.1")})));
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(TenantModelTest, NetworkWithoutMtuGets1500) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100)})));
  EXPECT_EQ(model_.networks().at("n1").mtu(), 1500u);
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100, 1500)})));
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100)})));
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 1u);
}

TEST_F(TenantModelTest, ObjectsWithoutIdOrKindAreInvalid) {
  EXPECT_TRUE(IsError(Upsert({MakeRouter("")}), v1::STATUS_INVALID_ARGUMENT, {"router", "id"}));
  EXPECT_TRUE(
      IsError(Upsert({MakeNetwork("", 100)}), v1::STATUS_INVALID_ARGUMENT, {"network", "id"}));
  EXPECT_TRUE(IsError(Upsert({v1::Object{}}), v1::STATUS_INVALID_ARGUMENT, {"kind"}));
  EXPECT_EQ(Total(), 0u);
}

// --- Transactions ----------------------------------------------------------------------------

TEST_F(TenantModelTest, ABatchWithAnInvalidObjectAppliesNothing) {
  // The third object is refused while it is being stored (bad CIDR) ...
  EXPECT_TRUE(IsError(
      Upsert({MakeRouter("r1"), MakeNetwork("n1", 100), MakeSubnet("s1", "n1", "10.0.0.1/24")}),
      v1::STATUS_INVALID_ARGUMENT, {"'s1'"}));
  EXPECT_EQ(Total(), 0u);
  EXPECT_TRUE(model_.routers().empty());
  EXPECT_TRUE(model_.networks().empty());

  // ... or by the validation of the whole result; on a model that is not empty either.
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r1"), MakeNetwork("n1", 900),
                              MakeSubnet("s1", "n1", "10.0.0.0/24", "10.0.1.1")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'s1'"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r1"), MakeNetwork("n1", 900),
                              MakePort("p1", "n1", kVmMac, {"10.0.0.10"})}),
                      v1::STATUS_INVALID_ARGUMENT, {"'p1'"}));
  EXPECT_EQ(Snapshot(), before);
  // A batch that replaces existing objects and then fails rolls the replacement back too.
  v1::Object renamed = MakeRouter("a-r");
  renamed.mutable_router()->set_name("renamed");
  EXPECT_TRUE(IsError(Upsert({renamed, MakeRoute("x", "a-r", "0.0.0.0/0", "10.9.9.9")}, true),
                      v1::STATUS_INVALID_ARGUMENT, {"'x'"}));
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(model_.routers().at("a-r").name(), "router a-r");
}

TEST_F(TenantModelTest, AnEmptyBatchIsFine) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  EXPECT_TRUE(IsOk(Upsert({})));
  EXPECT_EQ(Snapshot(), before);
}

// --- distributed -----------------------------------------------------------------------------

TEST_F(TenantModelTest, DistributedDefaultsToTheHostSetting) {
  EXPECT_TRUE(model_.host().distributed_default());
  ASSERT_TRUE(
      IsOk(Upsert({MakeRouter("unset"), MakeRouter("central", false), MakeRouter("dist", true)})));
  auto effective = [&](const std::string& id) {
    return model_.distributed(model_.routers().at(id));
  };
  // list() returns routers as stored, so that an agent can send back what it listed.
  auto listed_has_flag = [&](const std::string& id) {
    const v1::ObjectList listed = model_.list(v1::OBJECT_KIND_ROUTER);
    for (const auto& o : listed.objects()) {
      if (o.router().id() == id) return o.router().has_distributed();
    }
    ADD_FAILURE() << "router " << id << " is not listed";
    return false;
  };
  EXPECT_TRUE(effective("unset"));
  EXPECT_FALSE(effective("central"));
  EXPECT_TRUE(effective("dist"));
  EXPECT_FALSE(listed_has_flag("unset"));
  EXPECT_TRUE(listed_has_flag("central"));
  const v1::ObjectList listed = model_.list(v1::OBJECT_KIND_ROUTER);
  for (const auto& o : listed.objects()) {
    EXPECT_TRUE(IsOk(Upsert({o}))) << "listed router " << o.router().id() << " not re-sendable";
  }

  v1::HostIdentity host;
  host.set_host_id("hv1");
  host.set_distributed_default(false);
  ASSERT_TRUE(IsOk(model_.set_host(host)));
  EXPECT_FALSE(model_.host().distributed_default());
  EXPECT_EQ(model_.host().host_id(), "hv1");
  EXPECT_FALSE(effective("unset"));
  EXPECT_FALSE(effective("central"));
  EXPECT_TRUE(effective("dist"));
  // Resending the router as it was first sent is still the identical object.
  EXPECT_TRUE(IsOk(Upsert({MakeRouter("unset")})));

  host.set_distributed_default(true);
  ASSERT_TRUE(IsOk(model_.set_host(host)));
  EXPECT_TRUE(effective("unset"));
  EXPECT_FALSE(effective("central"));
}

TEST_F(TenantModelTest, SetHostNormalizesAndValidates) {
  v1::HostIdentity host;
  host.set_host_id("hv1");
  host.set_distributed_default(true);
  host.set_dvr_mac("FA:16:3F:00:00:01");
  host.set_tunnel_ip("192.0.2.10");
  ASSERT_TRUE(IsOk(model_.set_host(host)));
  EXPECT_EQ(model_.host().dvr_mac(), "fa:16:3f:00:00:01");
  EXPECT_EQ(model_.host().tunnel_ip(), "192.0.2.10");

  v1::HostIdentity bad = host;
  bad.set_dvr_mac("01:00:5e:00:00:01");
  EXPECT_TRUE(IsError(model_.set_host(bad), v1::STATUS_INVALID_ARGUMENT,
                      {"DVR MAC", "'01:00:5e:00:00:01'"}));
  bad = host;
  bad.set_tunnel_ip("192.0.2.300");
  EXPECT_TRUE(
      IsError(model_.set_host(bad), v1::STATUS_INVALID_ARGUMENT, {"tunnel IP", "'192.0.2.300'"}));
  // A refused host identity leaves the old one in place.
  EXPECT_EQ(model_.host().dvr_mac(), "fa:16:3f:00:00:01");
  EXPECT_EQ(model_.host().tunnel_ip(), "192.0.2.10");
}

// --- Kinds this version does not store -------------------------------------------------------

TEST_F(TenantModelTest, UnspecifiedKindIsUnimplemented) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  const std::string before = Snapshot();
  v1::Object empty;
  // An object with no kind is refused, and in a batch nothing else is applied either.
  EXPECT_TRUE(IsError(Upsert({MakeRouter("r2"), empty}), v1::STATUS_INVALID_ARGUMENT, {"no kind"}));
  EXPECT_TRUE(IsError(Remove(v1::OBJECT_KIND_UNSPECIFIED, "a-r"), v1::STATUS_UNIMPLEMENTED, {}));
  EXPECT_EQ(Snapshot(), before);

  // list() has no status: the API layer answers UNIMPLEMENTED when supported() says no.
  for (v1::ObjectKind k : kKinds) EXPECT_TRUE(TenantModel::supported(k)) << k;
  for (v1::ObjectKind k : {v1::OBJECT_KIND_NETWORK_ACL, v1::OBJECT_KIND_SECURITY_GROUP,
                           v1::OBJECT_KIND_REMOTE_HOST, v1::OBJECT_KIND_FLOATING_IP,
                           v1::OBJECT_KIND_SNAT_BINDING, v1::OBJECT_KIND_FLOATING_IP_GATEWAY}) {
    EXPECT_TRUE(TenantModel::supported(k)) << k;
  }
  EXPECT_FALSE(TenantModel::supported(v1::OBJECT_KIND_UNSPECIFIED));
  EXPECT_EQ(model_.list(v1::OBJECT_KIND_UNSPECIFIED).objects_size(), 0);
}

// --- Limits ----------------------------------------------------------------------------------

TEST_F(TenantModelTest, AtMostEightFixedIps) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  std::vector<std::string> ips;
  for (int i = 0; i < 8; ++i) ips.push_back("10.0.0." + std::to_string(100 + i));
  EXPECT_TRUE(IsOk(Upsert({MakePort("p8", "a-n", "fa:16:3e:00:00:08", ips)})));
  ips.push_back("10.0.0.200");
  EXPECT_TRUE(IsError(Upsert({MakePort("p9", "a-n", "fa:16:3e:00:00:09", ips)}),
                      v1::STATUS_INVALID_ARGUMENT, {"'p9'", "8 fixed IPs"}));
  EXPECT_FALSE(model_.vm_ports().contains("p9"));
}

TEST_F(TenantModelTest, AtMostEightAllowedAddressPairs) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  v1::Object p = MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.20"});
  for (int i = 0; i < 8; ++i) {
    p.mutable_vm_port()->add_allowed_address_pairs()->set_ip_prefix("10.1." + std::to_string(i) +
                                                                    ".0/24");
  }
  EXPECT_TRUE(IsOk(Upsert({p})));
  p.mutable_vm_port()->add_allowed_address_pairs()->set_ip_prefix("10.2.0.0/24");
  EXPECT_TRUE(
      IsError(Upsert({p}, true), v1::STATUS_INVALID_ARGUMENT, {"'p2'", "8 allowed address pairs"}));
  EXPECT_EQ(model_.vm_ports().at("p2").allowed_address_pairs_size(), 8);
}

TEST_F(TenantModelTest, SegmentationIdIsAVxlanVni) {
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 0)}), v1::STATUS_INVALID_ARGUMENT,
                      {"'n1'", "segmentation id 0 "}));
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 1u << 24)}), v1::STATUS_INVALID_ARGUMENT,
                      {"'n1'", "16777216"}));
  EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 0xffffffffu)}), v1::STATUS_INVALID_ARGUMENT,
                      {"'n1'", "4294967295"}));
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 0u);
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n1", 1)})));
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n2", (1u << 24) - 1)})));
}

TEST_F(TenantModelTest, MtuRange) {
  for (uint32_t mtu : {1u, 67u, 9217u, 65535u}) {
    EXPECT_TRUE(IsError(Upsert({MakeNetwork("n1", 100, mtu)}), v1::STATUS_INVALID_ARGUMENT,
                        {"'n1'", "MTU " + std::to_string(mtu)}))
        << mtu;
  }
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), 0u);
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100, 68)})));
  EXPECT_TRUE(IsOk(Upsert({MakeNetwork("n2", 200, 9216)})));
}

TEST_F(TenantModelTest, AtMostEightRouterInterfacesPerNetwork) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100)})));
  auto attach = [](int i) {
    char mac[18];
    std::snprintf(mac, sizeof(mac), "fa:16:3e:00:01:%02x", i);
    const std::string s = "s" + std::to_string(i);
    return std::vector<v1::Object>{
        MakeRouter("r" + std::to_string(i)),
        MakeSubnet(s, "n1", "10.0." + std::to_string(i) + ".0/24"),
        MakeInterface("ri" + std::to_string(i), "r" + std::to_string(i), s, mac)};
  };
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(IsOk(Upsert(attach(i)))) << i;
  EXPECT_TRUE(IsError(Upsert(attach(8)), v1::STATUS_RESOURCE_EXHAUSTED, {"'n1'", "8"}));
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER_INTERFACE), 8u);
}

// --- Scale -----------------------------------------------------------------------------------

// Every router with two networks (the same two CIDRs for all), two interfaces and two VM ports
// (the same MAC and IPs for all), in one upsert.
//
// 200 routers, not 1,000: every upsert copies the model and validate() rechecks all of it, with
// three loops that are quadratic in the model's size (subnet overlap per network, interface
// overlap per router, the subnet of each VM IP). With 1,000 routers (9,000 objects) the first
// upsert took 0.74 s in the debugoptimized build and 6.5 s under ASan, and so did every later
// upsert, even of a single static route (0.70 s / 6.0 s).
TEST_F(TenantModelTest, ManyRoutersInOneUpsert) {
  constexpr int kRouters = 200;
  google::protobuf::RepeatedPtrField<v1::Object> batch;
  for (int i = 0; i < kRouters; ++i) {
    const std::string t = "t" + std::to_string(i);
    *batch.Add() = MakeRouter(t + "-r");
    for (int j = 0; j < 2; ++j) {
      const std::string n = t + "-n" + std::to_string(j);
      const std::string s = t + "-s" + std::to_string(j);
      const std::string net = "10.0." + std::to_string(j);
      *batch.Add() = MakeNetwork(n, static_cast<uint32_t>(1000 + 2 * i + j));
      *batch.Add() = MakeSubnet(s, n, net + ".0/24");
      *batch.Add() = MakeInterface(t + "-ri" + std::to_string(j), t + "-r", s,
                                   "fa:16:3e:00:00:0" + std::to_string(j + 1));
      *batch.Add() = MakePort(t + "-p" + std::to_string(j), n, kVmMac, {net + ".10"},
                              t + "-vm" + std::to_string(j));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const auto e = model_.upsert(batch, false);
  const auto first = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(IsOk(e));
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER), size_t{kRouters});
  EXPECT_EQ(Count(v1::OBJECT_KIND_NETWORK), size_t{2 * kRouters});
  EXPECT_EQ(Count(v1::OBJECT_KIND_SUBNET), size_t{2 * kRouters});
  EXPECT_EQ(Count(v1::OBJECT_KIND_ROUTER_INTERFACE), size_t{2 * kRouters});
  EXPECT_EQ(Count(v1::OBJECT_KIND_VM_PORT), size_t{2 * kRouters});

  // The same batch again is a no-op; one more small upsert revalidates everything.
  const auto again_start = std::chrono::steady_clock::now();
  EXPECT_TRUE(IsOk(model_.upsert(batch, false)));
  const auto again = std::chrono::steady_clock::now() - again_start;
  const auto one_start = std::chrono::steady_clock::now();
  EXPECT_TRUE(IsOk(Upsert({MakeRoute("t0-sr", "t0-r", "0.0.0.0/0", "10.0.0.10")})));
  const auto one = std::chrono::steady_clock::now() - one_start;
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  RecordProperty("first_upsert_ms", static_cast<int>(ms(first)));
  std::printf("bulk: %d objects in %lld ms, identical again in %lld ms, one route in %lld ms\n",
              batch.size(), static_cast<long long>(ms(first)), static_cast<long long>(ms(again)),
              static_cast<long long>(ms(one)));
}

// --- Gaps found while writing these tests (disabled until fixed) -----------------------------

// BUG: a VM's fixed IP may be its subnet's network or broadcast address. validate() refuses those
// for the gateway but only checks `prefix.contains(ip)` for VM IPs, so 10.0.0.0 and 10.0.0.255
// in 10.0.0.0/24 are accepted and end up as neighbor entries (ARP answered for the broadcast
// address). Neutron refuses both for IPv4 subnets.
TEST_F(TenantModelTest, VmIpOnTheNetworkOrBroadcastAddressIsInvalid) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakePort("p2", "a-n", "fa:16:3e:00:00:20", {"10.0.0.0"})}),
                      v1::STATUS_INVALID_ARGUMENT, {"'p2'", "10.0.0.0"}));
  EXPECT_TRUE(IsError(Upsert({MakePort("p3", "a-n", "fa:16:3e:00:00:30", {"10.0.0.255"})}),
                      v1::STATUS_INVALID_ARGUMENT, {"'p3'", "10.0.0.255"}));
  EXPECT_FALSE(model_.vm_ports().contains("p2"));
  EXPECT_FALSE(model_.vm_ports().contains("p3"));
}

// BUG: a static route's next hop may be the router's own address on the subnet (the subnet's
// gateway IP), or the subnet's network/broadcast address: only "inside an attached subnet" is
// checked. A route through the router itself can never be resolved (Neutron refuses it: "the
// nexthop is used by router").
TEST_F(TenantModelTest, StaticRouteThroughTheRoutersOwnAddressIsInvalid) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  EXPECT_TRUE(IsError(Upsert({MakeRoute("sr2", "a-r", "172.16.0.0/12", "10.0.0.1")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'sr2'", "10.0.0.1"}));
  EXPECT_TRUE(IsError(Upsert({MakeRoute("sr3", "a-r", "172.16.0.0/12", "10.0.0.255")}),
                      v1::STATUS_INVALID_ARGUMENT, {"'sr3'", "10.0.0.255"}));
  EXPECT_FALSE(model_.static_routes().contains("sr2"));
  EXPECT_FALSE(model_.static_routes().contains("sr3"));
}

// GAP: two networks may share a segmentation id (VXLAN VNI). Nothing uses the VNI on the wire
// yet (NetworkState::vni is only stored), but once the overlay does, two tenants' L2 domains
// would merge between hosts.
TEST_F(TenantModelTest, TwoNetworksWithOneSegmentationIdConflict) {
  ASSERT_TRUE(IsOk(Upsert({MakeNetwork("n1", 100)})));
  EXPECT_TRUE(
      IsError(Upsert({MakeNetwork("n2", 100)}), v1::STATUS_CONFLICT, {"'n2'", "'n1'", "100"}));
  EXPECT_FALSE(model_.networks().contains("n2"));
}

// MINOR: port_bound_to("") answers the first VM port that is bound to no dataplane port (a VM on
// another host) instead of nullptr. No caller passes "" today.
TEST_F(TenantModelTest, NoVmPortIsBoundToTheEmptyName) {
  ASSERT_TRUE(IsOk(Upsert(Tenant("a", 100))));
  ASSERT_TRUE(IsOk(Upsert({MakePort("remote", "a-n", "fa:16:3e:00:00:20", {"10.0.0.11"})})));
  EXPECT_EQ(model_.port_bound_to(""), nullptr);
}

}  // namespace
}  // namespace dvr
