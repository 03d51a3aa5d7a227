// IPv4 address, prefix and MAC parsing and printing (lib/net_addr.h).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "net_addr.h"

namespace dvr {
namespace {

using namespace std::string_view_literals;

// --- IPv4 addresses --------------------------------------------------------------------------

TEST(ParseIpv4, AcceptsDottedQuads) {
  EXPECT_EQ(parse_ipv4("0.0.0.0"), 0u);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(parse_ipv4("10.1.2.3"), 0x0a010203u);
  EXPECT_EQ(parse_ipv4("192.168.100.254"), 0xc0a864feu);
  EXPECT_EQ(parse_ipv4("1.0.0.0"), 0x01000000u);
  EXPECT_EQ(parse_ipv4("0.0.0.1"), 0x00000001u);
  EXPECT_EQ(parse_ipv4("10.0.0.10"), 0x0a00000au);  // a trailing zero is not a leading one
  EXPECT_EQ(parse_ipv4("100.200.250.199"), 0x64c8fac7u);
}

TEST(ParseIpv4, RefusesLeadingZeros) {
  for (const char* s : {"010.0.0.1", "10.00.0.1", "10.0.01.1", "10.0.0.01", "00.0.0.0", "0.0.0.00",
                        "001.2.3.4", "1.2.3.099"}) {
    EXPECT_FALSE(parse_ipv4(s)) << s;
  }
}

TEST(ParseIpv4, RefusesOutOfRangeParts) {
  for (const char* s : {"256.0.0.0", "0.256.0.0", "0.0.256.0", "0.0.0.256", "999.1.1.1",
                        "1000.0.0.1", "1.2.3.4294967296", "4294967295.0.0.0"}) {
    EXPECT_FALSE(parse_ipv4(s)) << s;
  }
}

TEST(ParseIpv4, RefusesMissingParts) {
  for (const char* s :
       {"", "10", "10.0", "10.0.0", "10.0.0.", ".10.0.0", "10..0.1", "...", "10.0..", "1.2.3.4."}) {
    EXPECT_FALSE(parse_ipv4(s)) << "'" << s << "'";
  }
}

TEST(ParseIpv4, RefusesTrailingAndLeadingJunk) {
  for (const char* s :
       {"10.0.0.1 ", " 10.0.0.1", "10.0.0.1x", "10.0.0.1.5", "10.0.0.1/24", "-1.0.0.0", "+1.0.0.0",
        "1.-2.3.4", "0x1.0.0.0", "1.2.3.4\n", "a.b.c.d", "10.0.0.1:80", "1,2,3,4"}) {
    EXPECT_FALSE(parse_ipv4(s)) << "'" << s << "'";
  }
  // An embedded NUL is junk too (string_view is not NUL-terminated).
  EXPECT_FALSE(parse_ipv4("10.0.0.1\0"sv));
  // The parser only looks at the view it is given.
  EXPECT_EQ(parse_ipv4("10.0.0.1/24"sv.substr(0, 8)), 0x0a000001u);
}

// --- Prefixes --------------------------------------------------------------------------------

TEST(ParseIpv4Prefix, BareAddressIsSlash32) {
  const auto p = parse_ipv4_prefix("10.0.0.1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->addr, 0x0a000001u);
  EXPECT_EQ(p->depth, 32);
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.1", /*strict=*/true), p);  // no host bits in a /32
}

TEST(ParseIpv4Prefix, AcceptsSlash0AndSlash32) {
  EXPECT_EQ(parse_ipv4_prefix("0.0.0.0/0", true), (Ipv4Prefix{0, 0}));
  EXPECT_EQ(parse_ipv4_prefix("1.2.3.4/32", true), (Ipv4Prefix{0x01020304, 32}));
  // Not strict: /0 masks every bit away.
  EXPECT_EQ(parse_ipv4_prefix("10.1.2.3/0"), (Ipv4Prefix{0, 0}));
  EXPECT_FALSE(parse_ipv4_prefix("10.1.2.3/0", true));
}

TEST(ParseIpv4Prefix, RefusesBadLengths) {
  for (const char* s :
       {"10.0.0.0/33", "10.0.0.0/64", "10.0.0.0/100", "10.0.0.0/1000", "10.0.0.0/", "10.0.0.0/-1",
        "10.0.0.0/+8", "10.0.0.0/8x", "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0.0//8",
        "/8", "10.0.0/8", "256.0.0.0/8", "010.0.0.0/8"}) {
    EXPECT_FALSE(parse_ipv4_prefix(s)) << s;
    EXPECT_FALSE(parse_ipv4_prefix(s, true)) << s;
  }
}

TEST(ParseIpv4Prefix, StrictRefusesHostBits) {
  EXPECT_FALSE(parse_ipv4_prefix("10.0.0.1/24", true));
  EXPECT_FALSE(parse_ipv4_prefix("10.0.0.64/25", true));
  EXPECT_FALSE(parse_ipv4_prefix("10.0.0.3/31", true));
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.2/31", true), (Ipv4Prefix{0x0a000002, 31}));
  EXPECT_FALSE(parse_ipv4_prefix("128.0.0.1/1", true));
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.128/25", true), (Ipv4Prefix{0x0a000080, 25}));
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.0/24", true), (Ipv4Prefix{0x0a000000, 24}));
  EXPECT_EQ(parse_ipv4_prefix("128.0.0.0/1", true), (Ipv4Prefix{0x80000000, 1}));
}

TEST(ParseIpv4Prefix, NonStrictMasksHostBits) {
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.1/24"), (Ipv4Prefix{0x0a000000, 24}));
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.255/25"), (Ipv4Prefix{0x0a000080, 25}));
  EXPECT_EQ(parse_ipv4_prefix("255.255.255.255/1"), (Ipv4Prefix{0x80000000, 1}));
  EXPECT_EQ(parse_ipv4_prefix("10.0.0.3/31"), (Ipv4Prefix{0x0a000002, 31}));
}

TEST(Ipv4Prefix, Mask) {
  EXPECT_EQ((Ipv4Prefix{0, 0}).mask(), 0u);
  EXPECT_EQ((Ipv4Prefix{0x80000000, 1}).mask(), 0x80000000u);
  EXPECT_EQ((Ipv4Prefix{0x0a000000, 8}).mask(), 0xff000000u);
  EXPECT_EQ((Ipv4Prefix{0x0a000000, 24}).mask(), 0xffffff00u);
  EXPECT_EQ((Ipv4Prefix{0x0a000001, 32}).mask(), 0xffffffffu);
}

TEST(Ipv4Prefix, Contains) {
  const Ipv4Prefix p = *parse_ipv4_prefix("10.0.0.0/24", true);
  EXPECT_TRUE(p.contains(*parse_ipv4("10.0.0.0")));
  EXPECT_TRUE(p.contains(*parse_ipv4("10.0.0.1")));
  EXPECT_TRUE(p.contains(*parse_ipv4("10.0.0.255")));
  EXPECT_FALSE(p.contains(*parse_ipv4("10.0.1.0")));
  EXPECT_FALSE(p.contains(*parse_ipv4("9.255.255.255")));
  EXPECT_FALSE(p.contains(*parse_ipv4("138.0.0.1")));  // 10 | 128: a high bit outside the mask

  const Ipv4Prefix all{0, 0};
  EXPECT_TRUE(all.contains(0));
  EXPECT_TRUE(all.contains(0xffffffff));

  const Ipv4Prefix host = *parse_ipv4_prefix("10.0.0.7");
  EXPECT_TRUE(host.contains(*parse_ipv4("10.0.0.7")));
  EXPECT_FALSE(host.contains(*parse_ipv4("10.0.0.6")));
  EXPECT_FALSE(host.contains(*parse_ipv4("10.0.0.8")));
}

TEST(Ipv4Prefix, Overlaps) {
  auto pre = [](const char* s) { return *parse_ipv4_prefix(s, true); };
  struct Case {
    const char* a;
    const char* b;
    bool overlap;
  };
  for (const Case& c : {
           Case{"10.0.0.0/8", "10.1.0.0/16", true},
           Case{"10.0.0.0/24", "10.0.0.0/24", true},
           Case{"10.0.0.0/24", "10.0.0.128/25", true},
           Case{"10.0.0.0/24", "10.0.0.7", true},
           Case{"0.0.0.0/0", "192.168.1.0/24", true},
           Case{"0.0.0.0/0", "0.0.0.0/0", true},
           Case{"10.0.0.0/24", "10.0.1.0/24", false},
           Case{"10.0.0.0/25", "10.0.0.128/25", false},
           Case{"10.0.0.0/8", "11.0.0.0/8", false},
           Case{"0.0.0.0/1", "128.0.0.0/1", false},
           Case{"10.0.0.7", "10.0.0.8", false},
           Case{"10.0.0.0/24", "10.0.1.7", false},
       }) {
    EXPECT_EQ(pre(c.a).overlaps(pre(c.b)), c.overlap) << c.a << " vs " << c.b;
    EXPECT_EQ(pre(c.b).overlaps(pre(c.a)), c.overlap) << c.b << " vs " << c.a;
  }
}

// --- MAC addresses ---------------------------------------------------------------------------

TEST(ParseMac, AcceptsAnyCase) {
  const Mac want{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01};
  EXPECT_EQ(parse_mac("aa:bb:cc:dd:ee:01"), want);
  EXPECT_EQ(parse_mac("AA:BB:CC:DD:EE:01"), want);
  EXPECT_EQ(parse_mac("aA:Bb:cC:Dd:eE:01"), want);
  EXPECT_EQ(parse_mac("00:00:00:00:00:00"), Mac{});
  EXPECT_EQ(parse_mac("ff:ff:ff:ff:ff:ff"), (Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(parse_mac("01:23:45:67:89:ab"), (Mac{0x01, 0x23, 0x45, 0x67, 0x89, 0xab}));
  EXPECT_EQ(parse_mac("fa:16:3e:9f:0a:5c"), (Mac{0xfa, 0x16, 0x3e, 0x9f, 0x0a, 0x5c}));
}

TEST(ParseMac, OnlyColonSeparators) {
  for (const char* s : {"aa-bb-cc-dd-ee-ff", "aa.bb.cc.dd.ee.ff", "aa bb cc dd ee ff",
                        "aa:bb:cc-dd:ee:ff", "aa:bb:cc:dd:ee-ff", "aabb.ccdd.eeff", "aabbccddeeff",
                        "aa:bbc:cd:de:ef:f", "a:abb:cc:dd:ee:ff", "aa:bb:cc:dd:ee::f"}) {
    EXPECT_FALSE(parse_mac(s)) << s;
  }
}

TEST(ParseMac, RefusesWrongLengthAndNonHex) {
  for (const char* s :
       {"", "aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:fff", "aa:bb:cc:dd:ee:ff:", ":aa:bb:cc:dd:ee:ff",
        "aa:bb:cc:dd:ee:ff:00", "aa:bb:cc:dd:ee", "a:b:c:d:e:f", "aa:bb:cc:dd:ee:fg",
        "gg:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:f ", " a:bb:cc:dd:ee:ff", "+a:bb:cc:dd:ee:ff",
        "0x:bb:cc:dd:ee:ff"}) {
    EXPECT_FALSE(parse_mac(s)) << "'" << s << "'";
  }
  EXPECT_FALSE(parse_mac("aa:bb:cc:dd:ee:f\0"sv));
}

TEST(IsUnicastMac, Classifies) {
  EXPECT_TRUE(is_unicast_mac(*parse_mac("fa:16:3e:00:00:01")));
  EXPECT_TRUE(is_unicast_mac(*parse_mac("00:00:00:00:00:01")));
  EXPECT_TRUE(is_unicast_mac(*parse_mac("02:00:00:00:00:00")));  // locally administered
  EXPECT_TRUE(is_unicast_mac(*parse_mac("aa:bb:cc:dd:ee:01")));
  EXPECT_FALSE(is_unicast_mac(Mac{}));                            // all zero
  EXPECT_FALSE(is_unicast_mac(*parse_mac("ff:ff:ff:ff:ff:ff")));  // broadcast
  EXPECT_FALSE(is_unicast_mac(*parse_mac("01:00:5e:00:00:01")));  // IPv4 multicast
  EXPECT_FALSE(is_unicast_mac(*parse_mac("33:33:00:00:00:01")));  // IPv6 multicast
  EXPECT_FALSE(is_unicast_mac(*parse_mac("03:00:00:00:00:00")));  // local + group
}

// --- Printing --------------------------------------------------------------------------------

TEST(Format, Ipv4RoundTrips) {
  for (const char* s : {"0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.100.254", "1.2.3.4",
                        "100.64.0.10", "172.16.255.0"}) {
    const auto ip = parse_ipv4(s);
    ASSERT_TRUE(ip) << s;
    EXPECT_EQ(format_ipv4(*ip), s);
  }
  EXPECT_EQ(format_ipv4(0x0a000001), "10.0.0.1");
  EXPECT_EQ(format_ipv4(0xffffffff), "255.255.255.255");
}

TEST(Format, PrefixRoundTrips) {
  for (const char* s : {"0.0.0.0/0", "10.0.0.0/8", "192.168.1.128/25", "1.2.3.4/32", "128.0.0.0/1",
                        "10.0.0.0/30"}) {
    const auto p = parse_ipv4_prefix(s, true);
    ASSERT_TRUE(p) << s;
    EXPECT_EQ(format_prefix(*p), s);
  }
  EXPECT_EQ(format_prefix(*parse_ipv4_prefix("10.1.2.3/8")), "10.0.0.0/8");
  EXPECT_EQ(format_prefix(*parse_ipv4_prefix("10.1.2.3")), "10.1.2.3/32");
}

TEST(Format, MacRoundTripsInLowerCase) {
  EXPECT_EQ(format_mac(*parse_mac("AA:BB:CC:DD:EE:01")), "aa:bb:cc:dd:ee:01");
  EXPECT_EQ(format_mac(*parse_mac("aa:bb:cc:dd:ee:01")), "aa:bb:cc:dd:ee:01");
  EXPECT_EQ(format_mac(Mac{}), "00:00:00:00:00:00");
  EXPECT_EQ(format_mac(Mac{0x0f, 0xf0, 0x01, 0x10, 0xab, 0xcd}), "0f:f0:01:10:ab:cd");
  for (const char* s : {"fa:16:3e:9f:0a:5c", "ff:ff:ff:ff:ff:ff", "01:23:45:67:89:ab"}) {
    EXPECT_EQ(format_mac(*parse_mac(s)), s);
  }
}

}  // namespace
}  // namespace dvr
