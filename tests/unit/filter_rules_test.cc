// Network ACL and security-group rules: parsing, every validation error, and how the tenant
// model keeps references to ACLs and groups consistent (no EAL).
#include "filter_rules.h"

#include <gtest/gtest.h>

#include "tenant_model.h"

namespace dvr {
namespace {

namespace v1 = api::v1;

v1::AclRule acl_rule(uint32_t number, v1::Direction dir, v1::AclAction action,
                     const std::string& proto = "any") {
  v1::AclRule r;
  r.set_number(number);
  r.set_direction(dir);
  r.set_action(action);
  r.set_protocol(proto);
  return r;
}

std::optional<std::string> parse(const v1::NetworkAcl& acl, std::vector<AclRuleSpec>* out) {
  return parse_network_acl(acl, out);
}

// The error for an ACL holding just `rule`, or "" when it parses.
std::string acl_error(const v1::AclRule& rule) {
  v1::NetworkAcl acl;
  acl.set_id("acl1");
  *acl.add_rules() = rule;
  std::vector<AclRuleSpec> out;
  auto e = parse(acl, &out);
  return e ? *e : "";
}

std::string sg_error(const v1::SecurityGroupRule& rule) {
  v1::SecurityGroup g;
  g.set_id("sg1");
  *g.add_rules() = rule;
  std::vector<SgRuleSpec> out;
  auto e = parse_security_group(g, &out);
  return e ? *e : "";
}

v1::SecurityGroupRule sg_rule(const std::string& id, v1::Direction dir,
                              const std::string& proto = "any") {
  v1::SecurityGroupRule r;
  r.set_id(id);
  r.set_direction(dir);
  r.set_protocol(proto);
  return r;
}

TEST(FilterRules, AclRuleFieldsAreParsed) {
  v1::NetworkAcl acl;
  acl.set_id("acl1");
  v1::AclRule r = acl_rule(10, v1::DIRECTION_INGRESS, v1::ACL_ACTION_ALLOW, "TCP");
  r.set_source_cidr("10.1.0.0/16");
  r.set_destination_cidr("192.0.2.7/32");
  r.mutable_source_ports()->set_min(1024);
  r.mutable_source_ports()->set_max(65535);
  r.mutable_destination_ports()->set_min(80);
  r.mutable_destination_ports()->set_max(80);
  *acl.add_rules() = r;
  v1::AclRule icmp = acl_rule(20, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "icmp");
  icmp.set_icmp_type(3);
  icmp.set_icmp_code(4);
  *acl.add_rules() = icmp;
  std::vector<AclRuleSpec> out;
  ASSERT_FALSE(parse(acl, &out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].number, 10u);
  EXPECT_TRUE(out[0].ingress);
  EXPECT_TRUE(out[0].allow);
  EXPECT_EQ(out[0].protocol, 6);
  EXPECT_EQ(out[0].source.addr, 0x0a010000u);
  EXPECT_EQ(out[0].source.depth, 16);
  EXPECT_EQ(out[0].destination.addr, 0xc0000207u);
  EXPECT_EQ(out[0].source_ports.min, 1024);
  EXPECT_EQ(out[0].source_ports.max, 65535);
  EXPECT_EQ(out[0].destination_ports.min, 80);
  EXPECT_EQ(out[0].destination_ports.max, 80);
  EXPECT_FALSE(out[1].ingress);
  EXPECT_FALSE(out[1].allow);
  EXPECT_EQ(out[1].protocol, 1);
  EXPECT_EQ(out[1].icmp.as_port_range().min, 0x0304);
  EXPECT_EQ(out[1].icmp.as_port_range().max, 0x0304);
  // Unset fields mean "any".
  EXPECT_EQ(out[1].source.depth, 0);
  EXPECT_EQ(out[1].source_ports.min, 0);
  EXPECT_EQ(out[1].source_ports.max, 65535);
}

TEST(FilterRules, IcmpTypeWithoutCodeCoversEveryCode) {
  IcmpMatch m;
  m.type = 11;
  EXPECT_EQ(m.as_port_range().min, 0x0b00);
  EXPECT_EQ(m.as_port_range().max, 0x0bff);
  EXPECT_EQ(IcmpMatch{}.as_port_range().min, 0);
  EXPECT_EQ(IcmpMatch{}.as_port_range().max, 0xffff);
}

TEST(FilterRules, AclRuleErrorsNameTheRuleAndTheProblem) {
  EXPECT_NE(acl_error(acl_rule(0, v1::DIRECTION_INGRESS, v1::ACL_ACTION_ALLOW)).find("1..32766"),
            std::string::npos);
  EXPECT_NE(acl_error(acl_rule(32767, v1::DIRECTION_INGRESS, v1::ACL_ACTION_ALLOW))
                .find("outside 1..32766"),
            std::string::npos);
  EXPECT_NE(acl_error(acl_rule(5, v1::DIRECTION_UNSPECIFIED, v1::ACL_ACTION_ALLOW))
                .find("rule 5: direction"),
            std::string::npos);
  EXPECT_NE(acl_error(acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_UNSPECIFIED))
                .find("action must be allow or deny"),
            std::string::npos);
  EXPECT_NE(acl_error(acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "gre"))
                .find("protocol 'gre'"),
            std::string::npos);
  EXPECT_NE(acl_error(acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "256"))
                .find("protocol '256'"),
            std::string::npos);
  v1::AclRule r = acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "tcp");
  r.set_source_cidr("10.0.0.1/8");
  EXPECT_NE(acl_error(r).find("zero host bits"), std::string::npos);
  r = acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "icmp");
  r.mutable_destination_ports()->set_min(80);
  r.mutable_destination_ports()->set_max(80);
  EXPECT_NE(acl_error(r).find("only valid with protocol tcp or udp"), std::string::npos);
  r = acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "udp");
  r.mutable_destination_ports()->set_min(90);
  r.mutable_destination_ports()->set_max(80);
  EXPECT_NE(acl_error(r).find("90-80"), std::string::npos);
  r.mutable_destination_ports()->set_max(70000);
  EXPECT_NE(acl_error(r).find("within 0-65535"), std::string::npos);
  r = acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "tcp");
  r.set_icmp_type(8);
  EXPECT_NE(acl_error(r).find("only valid with protocol icmp"), std::string::npos);
  r = acl_rule(5, v1::DIRECTION_EGRESS, v1::ACL_ACTION_DENY, "icmp");
  r.set_icmp_code(0);
  EXPECT_NE(acl_error(r).find("needs an ICMP type"), std::string::npos);
  r.set_icmp_type(256);
  EXPECT_NE(acl_error(r).find("0..255"), std::string::npos);
}

TEST(FilterRules, AclNumbersAreUniquePerDirection) {
  v1::NetworkAcl acl;
  acl.set_id("acl1");
  *acl.add_rules() = acl_rule(7, v1::DIRECTION_INGRESS, v1::ACL_ACTION_ALLOW);
  *acl.add_rules() = acl_rule(7, v1::DIRECTION_EGRESS, v1::ACL_ACTION_ALLOW);
  std::vector<AclRuleSpec> out;
  EXPECT_FALSE(parse(acl, &out));
  *acl.add_rules() = acl_rule(7, v1::DIRECTION_INGRESS, v1::ACL_ACTION_DENY);
  out.clear();
  const auto e = parse(acl, &out);
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("used twice in the ingress direction"), std::string::npos) << *e;
}

TEST(FilterRules, SecurityGroupRulesAreParsed) {
  v1::SecurityGroup g;
  g.set_id("web");
  v1::SecurityGroupRule r = sg_rule("http", v1::DIRECTION_INGRESS, "tcp");
  r.mutable_ports()->set_min(80);
  r.mutable_ports()->set_max(443);
  r.set_remote_ip_prefix("198.51.100.0/24");
  *g.add_rules() = r;
  v1::SecurityGroupRule v6 = sg_rule("v6", v1::DIRECTION_EGRESS);
  v6.set_ethertype("IPv6");
  v6.set_remote_ip_prefix("::/0");
  *g.add_rules() = v6;
  v1::SecurityGroupRule peers = sg_rule("peers", v1::DIRECTION_INGRESS);
  peers.set_remote_group_id("web");
  *g.add_rules() = peers;
  std::vector<SgRuleSpec> out;
  ASSERT_FALSE(parse_security_group(g, &out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ingress);
  EXPECT_EQ(out[0].protocol, 6);
  EXPECT_EQ(out[0].ports.min, 80);
  EXPECT_EQ(out[0].ports.max, 443);
  EXPECT_EQ(out[0].remote_prefix.addr, 0xc6336400u);
  EXPECT_EQ(out[0].remote_prefix.depth, 24);
  EXPECT_TRUE(out[1].ipv6);  // IPv6 prefixes are accepted (and never enforced)
  EXPECT_EQ(out[2].remote_group_id, "web");
}

TEST(FilterRules, SecurityGroupRuleErrors) {
  EXPECT_NE(sg_error(sg_rule("", v1::DIRECTION_INGRESS)).find("without an id"), std::string::npos);
  EXPECT_NE(sg_error(sg_rule("r", v1::DIRECTION_UNSPECIFIED)).find("rule 'r': direction"),
            std::string::npos);
  v1::SecurityGroupRule r = sg_rule("r", v1::DIRECTION_INGRESS);
  r.set_ethertype("IPX");
  EXPECT_NE(sg_error(r).find("ethertype 'IPX'"), std::string::npos);
  r = sg_rule("r", v1::DIRECTION_INGRESS, "tcp");
  r.set_remote_ip_prefix("10.0.0.0/8");
  r.set_remote_group_id("other");
  EXPECT_NE(sg_error(r).find("mutually exclusive"), std::string::npos);
  r = sg_rule("r", v1::DIRECTION_INGRESS, "any");
  r.mutable_ports()->set_min(22);
  r.mutable_ports()->set_max(22);
  EXPECT_NE(sg_error(r).find("only valid with protocol tcp or udp"), std::string::npos);
  r = sg_rule("r", v1::DIRECTION_INGRESS, "tcp");
  r.set_remote_ip_prefix("10.0.0.300/8");
  EXPECT_NE(sg_error(r).find("remote prefix"), std::string::npos);

  v1::SecurityGroup g;
  g.set_id("sg1");
  *g.add_rules() = sg_rule("dup", v1::DIRECTION_INGRESS);
  *g.add_rules() = sg_rule("dup", v1::DIRECTION_EGRESS);
  std::vector<SgRuleSpec> out;
  const auto e = parse_security_group(g, &out);
  ASSERT_TRUE(e);
  EXPECT_NE(e->find("'dup' is used twice"), std::string::npos);
}

// --- The tenant model's references ---------------------------------------------------------

class FilterModelTest : public ::testing::Test {
 protected:
  std::optional<ModelError> upsert(std::vector<v1::Object> objs, bool replace = false) {
    google::protobuf::RepeatedPtrField<v1::Object> batch;
    for (auto& o : objs) *batch.Add() = o;
    return model_.upsert(batch, replace);
  }
  static v1::Object network(const std::string& id, uint32_t vni, const std::string& acl = {}) {
    v1::Object o;
    o.mutable_network()->set_id(id);
    o.mutable_network()->set_segmentation_id(vni);
    o.mutable_network()->set_network_acl_id(acl);
    return o;
  }
  static v1::Object acl(const std::string& id) {
    v1::Object o;
    o.mutable_network_acl()->set_id(id);
    *o.mutable_network_acl()->add_rules() =
        acl_rule(1, v1::DIRECTION_INGRESS, v1::ACL_ACTION_ALLOW);
    return o;
  }
  static v1::Object group(const std::string& id, const std::string& remote_group = {}) {
    v1::Object o;
    o.mutable_security_group()->set_id(id);
    v1::SecurityGroupRule r = sg_rule("r1", v1::DIRECTION_INGRESS);
    r.set_remote_group_id(remote_group);
    *o.mutable_security_group()->add_rules() = r;
    return o;
  }
  static v1::Object port(const std::string& id, std::vector<std::string> groups) {
    v1::Object o;
    v1::VmPort* p = o.mutable_vm_port();
    p->set_id(id);
    p->set_network_id("n1");
    p->set_mac("fa:16:3e:00:00:01");
    p->set_port_security_enabled(true);
    for (auto& g : groups) p->add_security_group_ids(g);
    return o;
  }
  TenantModel model_;
};

TEST_F(FilterModelTest, NetworksAndPortsMustReferToExistingFilters) {
  auto e = upsert({network("n1", 10, "nope")});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, v1::STATUS_NOT_FOUND);
  EXPECT_NE(e->message.find("unknown network ACL 'nope'"), std::string::npos);
  // In one batch, in any order.
  EXPECT_FALSE(upsert({network("n1", 10, "acl1"), acl("acl1")}));
  e = upsert({port("p1", {"sg-missing"})});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, v1::STATUS_NOT_FOUND);
  EXPECT_NE(e->message.find("unknown security group 'sg-missing'"), std::string::npos);
  EXPECT_FALSE(upsert({port("p1", {"sg1"}), group("sg1")}));
  e = upsert({port("p1", {"sg1", "sg1"})}, true);
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("twice"), std::string::npos);
  e = upsert({group("sg2", "ghost")});
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("unknown remote group 'ghost'"), std::string::npos);
  // A bad rule is refused with the parser's message, and nothing of the batch is applied.
  v1::Object bad = acl("acl2");
  bad.mutable_network_acl()->mutable_rules(0)->set_number(0);
  e = upsert({acl("acl3"), bad});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, v1::STATUS_INVALID_ARGUMENT);
  EXPECT_FALSE(model_.network_acls().contains("acl3"));
}

TEST_F(FilterModelTest, DeletingAnAclInUseNeedsACascadeThatDetachesIt) {
  ASSERT_FALSE(upsert({acl("acl1"), network("n1", 10, "acl1")}));
  auto e = model_.remove(v1::OBJECT_KIND_NETWORK_ACL, "acl1", false, false);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, v1::STATUS_CONFLICT);
  EXPECT_NE(e->message.find("attached to 1 network(s), e.g. 'n1'"), std::string::npos);
  EXPECT_FALSE(model_.remove(v1::OBJECT_KIND_NETWORK_ACL, "acl1", true, false));
  EXPECT_FALSE(model_.network_acls().contains("acl1"));
  EXPECT_EQ(model_.networks().at("n1").network_acl_id(), "");
  EXPECT_FALSE(model_.remove(v1::OBJECT_KIND_NETWORK_ACL, "acl1", false, true));  // missing ok
}

TEST_F(FilterModelTest, DeletingAGroupInUseNeedsACascadeThatRemovesItsUses) {
  ASSERT_FALSE(
      upsert({network("n1", 10), group("sg1"), group("sg2", "sg1"), port("p1", {"sg1", "sg2"})}));
  auto e = model_.remove(v1::OBJECT_KIND_SECURITY_GROUP, "sg1", false, false);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, v1::STATUS_CONFLICT);
  EXPECT_NE(e->message.find("1 VM port(s)"), std::string::npos);
  EXPECT_TRUE(model_.security_groups().contains("sg1"));
  EXPECT_FALSE(model_.remove(v1::OBJECT_KIND_SECURITY_GROUP, "sg1", true, false));
  EXPECT_FALSE(model_.security_groups().contains("sg1"));
  ASSERT_EQ(model_.vm_ports().at("p1").security_group_ids_size(), 1);
  EXPECT_EQ(model_.vm_ports().at("p1").security_group_ids(0), "sg2");
  EXPECT_EQ(model_.security_groups().at("sg2").rules_size(), 0);  // its remote-group rule went
}

TEST_F(FilterModelTest, AclsAndGroupsAreListedAndIdempotent) {
  ASSERT_FALSE(upsert({acl("acl1"), group("sg1")}));
  EXPECT_FALSE(upsert({acl("acl1"), group("sg1")}));  // identical: fine
  v1::Object changed = acl("acl1");
  changed.mutable_network_acl()->set_default_egress(v1::ACL_ACTION_ALLOW);
  auto e = upsert({changed});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, v1::STATUS_ALREADY_EXISTS);
  EXPECT_FALSE(upsert({changed}, true));
  EXPECT_EQ(model_.list(v1::OBJECT_KIND_NETWORK_ACL).objects_size(), 1);
  EXPECT_EQ(model_.list(v1::OBJECT_KIND_SECURITY_GROUP).objects_size(), 1);
  EXPECT_EQ(model_.network_acls().at("acl1").default_egress(), v1::ACL_ACTION_ALLOW);
}

}  // namespace
}  // namespace dvr
