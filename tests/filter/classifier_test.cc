// Tests of the rte_acl 5-tuple classifier (dataplane/filter/classifier.h), against a real EAL
// (tests/common/eal_main.cc).
#include "filter/classifier.h"

#include <gtest/gtest.h>
#include <rte_log.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace dvr::dp {
namespace {

constexpr uint8_t kIcmp = 1;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kGre = 47;
constexpr uint32_t kNo = Classifier::kNoMatch;

constexpr uint32_t ip(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return a << 24 | b << 16 | c << 8 | d;
}
constexpr uint16_t icmp_tc(uint8_t type, uint8_t code) {
  return static_cast<uint16_t>(type << 8 | code);
}

struct Tuple {
  uint8_t proto;
  uint32_t src, dst;
  uint16_t sport, dport;
};

struct Input {
  uint8_t b[24];
};

Input input(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  Input in;
  make_classifier_input(in.b, proto, src, dst, sport, dport);
  return in;
}
Input input(const Tuple& t) {
  return input(t.proto, t.src, t.dst, t.sport, t.dport);
}

uint32_t classify_one(const Classifier& c, const uint8_t* ipv4) {
  uint32_t result = 0xdeadbeef;
  c.classify(&ipv4, &result, 1);
  return result;
}
uint32_t classify_one(const Classifier& c, const Input& in) {
  return classify_one(c, in.b);
}

std::unique_ptr<Classifier> build_ok(const std::vector<ClassifierRule>& rules) {
  std::string error;
  auto c = Classifier::build(rules, &error);
  EXPECT_NE(c, nullptr) << error;
  return c;
}

ClassifierRule rule(uint32_t userdata, int32_t priority) {
  ClassifierRule r;
  r.userdata = userdata;
  r.priority = priority;
  return r;
}

// ---- Real Ethernet frames (64 bytes, untagged) ------------------------------------------------

struct Frame {
  uint8_t b[64] = {};
  const uint8_t* ipv4() const { return b + 14; }
};

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

uint16_t ip_checksum(const uint8_t* p, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += uint32_t{p[i]} << 8 | p[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// An IPv4 frame with a realistic header (TTL, id, DF, checksum: the bytes around the fields the
// classifier reads are not zero) followed by `l4` (l4_len bytes).
Frame make_frame(uint8_t proto, uint32_t src, uint32_t dst, const uint8_t* l4, size_t l4_len) {
  Frame f;
  const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
  std::memcpy(f.b, macs, sizeof(macs));
  put16(f.b + 12, 0x0800);
  uint8_t* h = f.b + 14;
  h[0] = 0x45;
  h[1] = 0x10;
  put16(h + 2, static_cast<uint16_t>(20 + l4_len));
  put16(h + 4, 0x1c46);
  put16(h + 6, 0x4000);  // DF
  h[8] = 64;
  h[9] = proto;
  put32(h + 12, src);
  put32(h + 16, dst);
  put16(h + 10, ip_checksum(h, 20));
  std::memcpy(h + 20, l4, l4_len);
  return f;
}

Frame tcp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  uint8_t tcp[20] = {};
  put16(tcp, sport);
  put16(tcp + 2, dport);
  put32(tcp + 4, 0x01020304);  // seq
  tcp[12] = 0x50;              // data offset 5
  tcp[13] = 0x02;              // SYN
  put16(tcp + 14, 0xffff);     // window
  put16(tcp + 16, 0xbeef);     // checksum (not checked by anyone here)
  return make_frame(kTcp, src, dst, tcp, sizeof(tcp));
}

Frame udp_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
  uint8_t udp[8] = {};
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, 8 + 18);
  put16(udp + 6, 0x1234);
  return make_frame(kUdp, src, dst, udp, sizeof(udp));
}

Frame icmp_frame(uint32_t src, uint32_t dst, uint8_t type, uint8_t code) {
  uint8_t icmp[8] = {type, code, 0, 0, 0x12, 0x34, 0x00, 0x01};  // id 0x1234, seq 1
  put16(icmp + 2, ip_checksum(icmp, sizeof(icmp)));
  return make_frame(kIcmp, src, dst, icmp, sizeof(icmp));
}

// ---- Basics ------------------------------------------------------------------------------------

TEST(ClassifierInput, LayoutIsAnIpv4HeaderInNetworkOrder) {
  uint8_t buf[24];
  std::memset(buf, 0xee, sizeof(buf));
  make_classifier_input(buf, kUdp, ip(10, 1, 2, 3), ip(192, 168, 4, 5), 0x1234, 53);
  const uint8_t want[24] = {0x45, 0, 0, 0, 0,   0,   0, 0, 0,    kUdp, 0,    0,
                            10,   1, 2, 3, 192, 168, 4, 5, 0x12, 0x34, 0x00, 53};
  for (int i = 0; i < 24; ++i) EXPECT_EQ(buf[i], want[i]) << "byte " << i;
}

TEST(Classifier, EmptyRuleSetMatchesNothing) {
  auto c = build_ok({});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->rule_count(), 0u);
  EXPECT_EQ(c->memory_bytes(), 0u);
  // More than one internal chunk of 64, and a sentinel after the last result.
  std::vector<Input> inputs;
  for (uint32_t i = 0; i < 100; ++i) inputs.push_back(input(kTcp, i, ~i, 80, 443));
  std::vector<const uint8_t*> ptrs;
  for (const Input& in : inputs) ptrs.push_back(in.b);
  std::vector<uint32_t> results(101, 0xdeadbeef);
  c->classify(ptrs.data(), results.data(), 100);
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(results[i], kNo) << i;
  EXPECT_EQ(results[100], 0xdeadbeefu);
  c->classify(ptrs.data(), results.data(), 0);  // n = 0 is fine
}

TEST(Classifier, NoMatchingRuleGivesNoMatch) {
  ClassifierRule r = rule(7, 1);
  r.any_protocol = false;
  r.protocol = kTcp;
  r.dst_addr = ip(10, 0, 0, 0);
  r.dst_depth = 8;
  r.dst_port_min = r.dst_port_max = 22;
  auto c = build_ok({r});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->rule_count(), 1u);
  EXPECT_EQ(classify_one(*c, input(kTcp, ip(1, 1, 1, 1), ip(10, 9, 9, 9), 1000, 22)), 7u);
  EXPECT_EQ(classify_one(*c, input(kUdp, ip(1, 1, 1, 1), ip(10, 9, 9, 9), 1000, 22)), kNo);
  EXPECT_EQ(classify_one(*c, input(kTcp, ip(1, 1, 1, 1), ip(11, 9, 9, 9), 1000, 22)), kNo);
  EXPECT_EQ(classify_one(*c, input(kTcp, ip(1, 1, 1, 1), ip(10, 9, 9, 9), 1000, 23)), kNo);
  EXPECT_EQ(classify_one(*c, input(kTcp, ip(10, 9, 9, 9), ip(1, 1, 1, 1), 22, 1000)), kNo);
}

// ---- Each field alone --------------------------------------------------------------------------

TEST(Classifier, Protocol) {
  std::vector<ClassifierRule> rules;
  const uint8_t protos[] = {kTcp, kUdp, kIcmp, kGre};
  for (uint32_t i = 0; i < 4; ++i) {
    ClassifierRule r = rule(i + 1, 10);
    r.any_protocol = false;
    r.protocol = protos[i];
    rules.push_back(r);
  }
  ClassifierRule any = rule(100, 1);
  any.protocol = kTcp;  // ignored: any_protocol is true
  rules.push_back(any);
  auto c = build_ok(rules);
  ASSERT_NE(c, nullptr);
  const uint32_t s = ip(10, 0, 0, 1), d = ip(10, 0, 0, 2);
  EXPECT_EQ(classify_one(*c, input(kTcp, s, d, 1, 2)), 1u);
  EXPECT_EQ(classify_one(*c, input(kUdp, s, d, 1, 2)), 2u);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, 0, 0)), 3u);
  EXPECT_EQ(classify_one(*c, input(kGre, s, d, 0, 0)), 4u);
  EXPECT_EQ(classify_one(*c, input(0, s, d, 1, 2)), 100u);
  EXPECT_EQ(classify_one(*c, input(50, s, d, 1, 2)), 100u);
  EXPECT_EQ(classify_one(*c, input(255, s, d, 1, 2)), 100u);

  // Without the catch-all, other protocols match nothing.
  rules.pop_back();
  auto exact = build_ok(rules);
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(classify_one(*exact, input(kUdp, s, d, 1, 2)), 2u);
  EXPECT_EQ(classify_one(*exact, input(kTcp + 1, s, d, 1, 2)), kNo);
  EXPECT_EQ(classify_one(*exact, input(kTcp | 0x80, s, d, 1, 2)), kNo);
  EXPECT_EQ(classify_one(*exact, input(0, s, d, 1, 2)), kNo);
}

// A prefix rule on one address field: the first and last address of the prefix match, the
// addresses just outside do not, and the same address in the other field does not.
void check_prefix(bool on_src, uint8_t depth) {
  SCOPED_TRACE(std::string(on_src ? "src" : "dst") + " depth " + std::to_string(depth));
  const uint32_t addr = ip(10, 20, 30, 41);  // host bits set: the classifier masks them
  ClassifierRule r = rule(9, 1);
  (on_src ? r.src_addr : r.dst_addr) = addr;
  (on_src ? r.src_depth : r.dst_depth) = depth;
  auto c = build_ok({r});
  ASSERT_NE(c, nullptr);
  const uint32_t mask = depth == 0 ? 0 : ~uint32_t{0} << (32 - depth);
  const uint32_t lo = addr & mask, hi = lo | ~mask;
  const uint32_t other = ip(172, 16, 5, 5);
  auto classify_addr = [&](uint32_t a) {
    return on_src ? classify_one(*c, input(kTcp, a, other, 1234, 80))
                  : classify_one(*c, input(kTcp, other, a, 1234, 80));
  };
  EXPECT_EQ(classify_addr(lo), 9u);
  EXPECT_EQ(classify_addr(hi), 9u);
  EXPECT_EQ(classify_addr(addr), 9u);
  EXPECT_EQ(classify_addr(lo + (~mask >> 1)), 9u);
  if (depth == 0) {
    EXPECT_EQ(classify_addr(0), 9u);
    EXPECT_EQ(classify_addr(0xffffffff), 9u);
  } else {
    if (lo != 0) {
      EXPECT_EQ(classify_addr(lo - 1), kNo);
    }
    if (hi != 0xffffffff) {
      EXPECT_EQ(classify_addr(hi + 1), kNo);
    }
    // The first bit of the prefix flipped.
    EXPECT_EQ(classify_addr(addr ^ (uint32_t{1} << (32 - depth))), kNo);
    // The address in the other field only: no match.
    const uint32_t outside = addr ^ 0x80000000;
    EXPECT_EQ(on_src ? classify_one(*c, input(kTcp, outside, addr, 1234, 80))
                     : classify_one(*c, input(kTcp, addr, outside, 1234, 80)),
              kNo);
  }
}

TEST(Classifier, SourcePrefix) {
  for (uint8_t depth : {0, 1, 7, 8, 9, 15, 16, 23, 24, 25, 31, 32}) check_prefix(true, depth);
}

TEST(Classifier, DestinationPrefix) {
  for (uint8_t depth : {0, 1, 7, 8, 9, 15, 16, 23, 24, 25, 31, 32}) check_prefix(false, depth);
}

// A port range rule on one port field: edges min-1, min, max, max+1.
void check_port_range(bool on_src, uint16_t min, uint16_t max) {
  SCOPED_TRACE(std::string(on_src ? "src" : "dst") + " ports " + std::to_string(min) + "-" +
               std::to_string(max));
  ClassifierRule r = rule(5, 1);
  (on_src ? r.src_port_min : r.dst_port_min) = min;
  (on_src ? r.src_port_max : r.dst_port_max) = max;
  auto c = build_ok({r});
  ASSERT_NE(c, nullptr);
  const uint16_t other = 40000;
  auto classify_port = [&](uint16_t p) {
    return on_src ? classify_one(*c, input(kUdp, ip(1, 2, 3, 4), ip(5, 6, 7, 8), p, other))
                  : classify_one(*c, input(kUdp, ip(1, 2, 3, 4), ip(5, 6, 7, 8), other, p));
  };
  EXPECT_EQ(classify_port(min), 5u);
  EXPECT_EQ(classify_port(max), 5u);
  EXPECT_EQ(classify_port(static_cast<uint16_t>(min + (max - min) / 2)), 5u);
  if (min > 0) {
    EXPECT_EQ(classify_port(static_cast<uint16_t>(min - 1)), kNo);
  }
  if (max < UINT16_MAX) {
    EXPECT_EQ(classify_port(static_cast<uint16_t>(max + 1)), kNo);
  }
  if (min > 0) {
    EXPECT_EQ(classify_port(0), kNo);
  }
  if (max < UINT16_MAX) {
    EXPECT_EQ(classify_port(UINT16_MAX), kNo);
  }
  // The port in the other field only: no match (unless the range contains `other`).
  if (!(min <= other && other <= max)) {
    EXPECT_EQ(on_src ? classify_one(*c, input(kUdp, ip(1, 2, 3, 4), ip(5, 6, 7, 8), other, min))
                     : classify_one(*c, input(kUdp, ip(1, 2, 3, 4), ip(5, 6, 7, 8), min, other)),
              kNo);
  }
}

TEST(Classifier, SourcePortRange) {
  check_port_range(true, 1000, 2000);
  check_port_range(true, 443, 443);
  check_port_range(true, 255, 256);        // crosses a byte boundary
  check_port_range(true, 0x0102, 0x0102);  // byte-swapped 0x0201 must not match
  check_port_range(true, 0, 0);
  check_port_range(true, UINT16_MAX, UINT16_MAX);
  check_port_range(true, 0, 1023);
  check_port_range(true, 1024, UINT16_MAX);
  check_port_range(true, 0, UINT16_MAX);
}

TEST(Classifier, DestinationPortRange) {
  check_port_range(false, 1000, 2000);
  check_port_range(false, 80, 80);
  check_port_range(false, 255, 256);
  check_port_range(false, 0x0102, 0x0102);
  check_port_range(false, 0, 0);
  check_port_range(false, UINT16_MAX, UINT16_MAX);
  check_port_range(false, 0, 1023);
  check_port_range(false, 1024, UINT16_MAX);
  check_port_range(false, 0, UINT16_MAX);
}

TEST(Classifier, ByteSwappedPortDoesNotMatch) {
  ClassifierRule r = rule(3, 1);
  r.dst_port_min = r.dst_port_max = 0x0102;
  auto c = build_ok({r});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(classify_one(*c, input(kTcp, 1, 2, 9, 0x0102)), 3u);
  EXPECT_EQ(classify_one(*c, input(kTcp, 1, 2, 9, 0x0201)), kNo);
}

TEST(Classifier, IcmpTypeAndCodeAsSourcePort) {
  std::vector<ClassifierRule> rules;
  ClassifierRule echo = rule(1, 10);  // echo request (8/0) only
  echo.any_protocol = false;
  echo.protocol = kIcmp;
  echo.src_port_min = echo.src_port_max = icmp_tc(8, 0);
  rules.push_back(echo);
  ClassifierRule unreachable = rule(2, 10);  // destination unreachable (3), any code
  unreachable.any_protocol = false;
  unreachable.protocol = kIcmp;
  unreachable.src_port_min = icmp_tc(3, 0);
  unreachable.src_port_max = icmp_tc(3, 255);
  rules.push_back(unreachable);
  auto c = build_ok(rules);
  ASSERT_NE(c, nullptr);

  const uint32_t s = ip(192, 0, 2, 1), d = ip(198, 51, 100, 7);
  // make_classifier_input: the "source port" is type << 8 | code.
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(8, 0), 0)), 1u);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(8, 1), 0)), kNo);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(0, 0), 0)), kNo);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(3, 0), 0)), 2u);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(3, 255), 0)), 2u);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(2, 255), 0)), kNo);
  EXPECT_EQ(classify_one(*c, input(kIcmp, s, d, icmp_tc(4, 0), 0)), kNo);
  // A TCP packet with source port 0x0800 is not an echo request.
  EXPECT_EQ(classify_one(*c, input(kTcp, s, d, icmp_tc(8, 0), 0)), kNo);

  // Real frames: the ICMP header follows the IPv4 header, with a checksum and id/seq after the
  // type and code.
  EXPECT_EQ(classify_one(*c, icmp_frame(s, d, 8, 0).ipv4()), 1u);
  EXPECT_EQ(classify_one(*c, icmp_frame(s, d, 0, 0).ipv4()), kNo);
  EXPECT_EQ(classify_one(*c, icmp_frame(s, d, 3, 4).ipv4()), 2u);
  EXPECT_EQ(classify_one(*c, icmp_frame(s, d, 3, 13).ipv4()), 2u);
  EXPECT_EQ(classify_one(*c, icmp_frame(s, d, 11, 0).ipv4()), kNo);
}

TEST(Classifier, RealFrames) {
  std::vector<ClassifierRule> rules;
  ClassifierRule web = rule(1, 30);  // TCP to port 80 from 203.0.113.0/24
  web.any_protocol = false;
  web.protocol = kTcp;
  web.src_addr = ip(203, 0, 113, 0);
  web.src_depth = 24;
  web.dst_port_min = web.dst_port_max = 80;
  rules.push_back(web);
  ClassifierRule dns = rule(2, 20);  // UDP from port 53 to 10.0.0.53
  dns.any_protocol = false;
  dns.protocol = kUdp;
  dns.dst_addr = ip(10, 0, 0, 53);
  dns.dst_depth = 32;
  dns.src_port_min = dns.src_port_max = 53;
  rules.push_back(dns);
  ClassifierRule ping = rule(3, 20);  // echo request
  ping.any_protocol = false;
  ping.protocol = kIcmp;
  ping.src_port_min = ping.src_port_max = icmp_tc(8, 0);
  rules.push_back(ping);
  ClassifierRule net = rule(4, 0);  // anything to 10.0.0.0/8
  net.dst_addr = ip(10, 0, 0, 0);
  net.dst_depth = 8;
  rules.push_back(net);
  auto c = build_ok(rules);
  ASSERT_NE(c, nullptr);

  const std::vector<std::pair<Frame, uint32_t>> cases = {
      {tcp_frame(ip(203, 0, 113, 9), ip(10, 1, 1, 1), 50000, 80), 1},
      {tcp_frame(ip(203, 0, 113, 9), ip(8, 8, 8, 8), 50000, 80), 1},
      {tcp_frame(ip(203, 0, 114, 9), ip(10, 1, 1, 1), 50000, 80), 4},
      {tcp_frame(ip(203, 0, 114, 9), ip(8, 8, 8, 8), 50000, 80), kNo},
      {tcp_frame(ip(203, 0, 113, 9), ip(10, 1, 1, 1), 80, 50000), 4},
      {udp_frame(ip(203, 0, 113, 9), ip(10, 1, 1, 1), 50000, 80), 4},
      {udp_frame(ip(8, 8, 8, 8), ip(10, 0, 0, 53), 53, 33333), 2},
      {udp_frame(ip(8, 8, 8, 8), ip(10, 0, 0, 54), 53, 33333), 4},
      {udp_frame(ip(8, 8, 8, 8), ip(192, 168, 0, 53), 53, 33333), kNo},
      {tcp_frame(ip(8, 8, 8, 8), ip(10, 0, 0, 53), 53, 33333), 4},
      {icmp_frame(ip(8, 8, 8, 8), ip(192, 168, 1, 1), 8, 0), 3},
      {icmp_frame(ip(8, 8, 8, 8), ip(10, 168, 1, 1), 0, 0), 4},
      {icmp_frame(ip(8, 8, 8, 8), ip(192, 168, 1, 1), 0, 0), kNo},
  };
  std::vector<const uint8_t*> ptrs;
  for (const auto& [frame, want] : cases) {
    EXPECT_EQ(classify_one(*c, frame.ipv4()), want) << "case " << ptrs.size();
    ptrs.push_back(frame.ipv4());
  }
  // The same as one burst.
  std::vector<uint32_t> results(cases.size());
  c->classify(ptrs.data(), results.data(), static_cast<uint32_t>(ptrs.size()));
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(results[i], cases[i].second) << i;
}

// The classifier reads at most 24 bytes from the IPv4 header: an input that ends right before an
// inaccessible page is classified without a fault.
TEST(Classifier, ReadsOnlyTheFirst24Bytes) {
  ClassifierRule r = rule(1, 1);
  r.dst_port_min = r.dst_port_max = 0x1122;
  r.any_protocol = false;
  r.protocol = kUdp;
  auto c = build_ok({r});
  ASSERT_NE(c, nullptr);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mem = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  uint8_t* base = static_cast<uint8_t*>(mem);
  ASSERT_EQ(mprotect(base + page, page, PROT_NONE), 0);
  uint8_t(&buf)[24] = *reinterpret_cast<uint8_t(*)[24]>(base + page - 24);
  make_classifier_input(buf, kUdp, ip(1, 1, 1, 1), ip(2, 2, 2, 2), 7, 0x1122);
  EXPECT_EQ(classify_one(*c, buf), 1u);
  buf[23] = 0x23;
  EXPECT_EQ(classify_one(*c, buf), kNo);
  munmap(mem, 2 * page);
}

// ---- Precedence --------------------------------------------------------------------------------

TEST(Classifier, HighestPriorityWinsInAnyInsertionOrder) {
  // Three nested prefixes; the middle one has the highest priority, so the most specific rule
  // does not win by being specific.
  ClassifierRule wide = rule(1, 10);
  wide.dst_addr = ip(10, 0, 0, 0);
  wide.dst_depth = 8;
  ClassifierRule middle = rule(2, 20);
  middle.dst_addr = ip(10, 1, 0, 0);
  middle.dst_depth = 16;
  ClassifierRule narrow = rule(3, 5);
  narrow.dst_addr = ip(10, 1, 2, 0);
  narrow.dst_depth = 24;
  narrow.any_protocol = false;
  narrow.protocol = kTcp;
  std::vector<ClassifierRule> rules = {wide, middle, narrow};
  std::vector<int> order = {0, 1, 2};
  int permutations = 0;
  do {
    std::vector<ClassifierRule> ordered;
    for (int i : order) ordered.push_back(rules[i]);
    SCOPED_TRACE("order " + std::to_string(order[0]) + std::to_string(order[1]) +
                 std::to_string(order[2]));
    auto c = build_ok(ordered);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(classify_one(*c, input(kTcp, 1, ip(10, 1, 2, 3), 1, 2)), 2u);
    EXPECT_EQ(classify_one(*c, input(kTcp, 1, ip(10, 1, 9, 9), 1, 2)), 2u);
    EXPECT_EQ(classify_one(*c, input(kTcp, 1, ip(10, 9, 9, 9), 1, 2)), 1u);
    EXPECT_EQ(classify_one(*c, input(kTcp, 1, ip(11, 1, 2, 3), 1, 2)), kNo);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 6);

  // Raise the narrow rule above the others: now it wins where it matches.
  rules[2].priority = 50;
  auto c = build_ok(rules);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(classify_one(*c, input(kTcp, 1, ip(10, 1, 2, 3), 1, 2)), 3u);
  EXPECT_EQ(classify_one(*c, input(kUdp, 1, ip(10, 1, 2, 3), 1, 2)), 2u);  // narrow is TCP only
}

// Two overlapping catch-all rules with priorities `a` (userdata 1) and `b` (userdata 2), built in
// both orders.
std::pair<uint32_t, uint32_t> winner_both_orders(int32_t a, int32_t b) {
  const ClassifierRule ra = rule(1, a), rb = rule(2, b);
  auto ab = build_ok({ra, rb});
  auto ba = build_ok({rb, ra});
  if (ab == nullptr || ba == nullptr) return {0xdead, 0xdead};
  const Input in = input(kTcp, ip(1, 2, 3, 4), ip(5, 6, 7, 8), 9, 10);
  return {classify_one(*ab, in), classify_one(*ba, in)};
}

TEST(Classifier, PriorityEdges) {
  using P = std::pair<uint32_t, uint32_t>;
  EXPECT_EQ(winner_both_orders(0, 1), P(2, 2));  // rte_acl itself has no priority 0
  EXPECT_EQ(winner_both_orders(1, 0), P(1, 1));
  EXPECT_EQ(winner_both_orders(Classifier::kMaxPriority, Classifier::kMaxPriority - 1), P(1, 1));
  EXPECT_EQ(winner_both_orders(0, Classifier::kMaxPriority), P(2, 2));
  EXPECT_EQ(winner_both_orders(1000, 1001), P(2, 2));
  // Equal priorities: the rule listed first wins.
  EXPECT_EQ(winner_both_orders(7, 7), P(1, 2));
  EXPECT_EQ(winner_both_orders(0, 0), P(1, 2));
  EXPECT_EQ(winner_both_orders(Classifier::kMaxPriority, Classifier::kMaxPriority), P(1, 2));

  // A rule of priority 0 alone matches.
  auto c = build_ok({rule(42, 0)});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(classify_one(*c, input(kUdp, 1, 2, 3, 4)), 42u);
}

TEST(Classifier, LowerPriorityRuleWinsWhereTheHigherDoesNotMatch) {
  ClassifierRule deny_ssh = rule(1, 100);
  deny_ssh.any_protocol = false;
  deny_ssh.protocol = kTcp;
  deny_ssh.dst_port_min = deny_ssh.dst_port_max = 22;
  ClassifierRule allow_all = rule(2, 1);
  auto c = build_ok({allow_all, deny_ssh});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(classify_one(*c, input(kTcp, 1, 2, 3, 22)), 1u);
  EXPECT_EQ(classify_one(*c, input(kTcp, 1, 2, 3, 23)), 2u);
  EXPECT_EQ(classify_one(*c, input(kUdp, 1, 2, 3, 22)), 2u);
}

// ---- Validation --------------------------------------------------------------------------------

void expect_rejected(const ClassifierRule& bad, const std::string& mentions) {
  SCOPED_TRACE("expecting an error about " + mentions);
  std::string error;
  // The bad rule is the second one: the message names it.
  auto c = Classifier::build({rule(1, 1), bad}, &error);
  EXPECT_EQ(c, nullptr);
  EXPECT_NE(error.find(mentions), std::string::npos) << error;
  EXPECT_NE(error.find("rule 1"), std::string::npos) << error;
  EXPECT_EQ(Classifier::build({bad}, nullptr), nullptr);  // no error string wanted: still fails
}

TEST(Classifier, ValidationErrors) {
  expect_rejected(rule(0, 1), "userdata");
  expect_rejected(rule(1, -1), "priority");
  expect_rejected(rule(1, Classifier::kMaxPriority + 1), "priority");
  expect_rejected(rule(1, INT32_MIN), "priority");
  ClassifierRule r = rule(1, 1);
  r.src_port_min = 2001;
  r.src_port_max = 2000;
  expect_rejected(r, "src port");
  r = rule(1, 1);
  r.dst_port_min = 1;
  r.dst_port_max = 0;
  expect_rejected(r, "dst port");
  r = rule(1, 1);
  r.src_depth = 33;
  expect_rejected(r, "src_depth");
  r = rule(1, 1);
  r.dst_depth = 255;
  expect_rejected(r, "dst_depth");

  // The limits themselves are valid.
  r = rule(UINT32_MAX, Classifier::kMaxPriority);
  r.src_depth = r.dst_depth = 32;
  r.src_port_min = r.src_port_max = 0;
  r.dst_port_min = r.dst_port_max = UINT16_MAX;
  auto c = build_ok({r});
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(classify_one(*c, input(kTcp, 0, 0, 0, UINT16_MAX)), UINT32_MAX);
}

// ---- Several classifiers -----------------------------------------------------------------------

TEST(Classifier, ClassifiersAliveAtOnceAreIndependent) {
  ClassifierRule r = rule(1, 1);
  r.dst_addr = ip(10, 0, 0, 0);
  r.dst_depth = 8;
  std::vector<std::unique_ptr<Classifier>> all;
  for (uint32_t i = 0; i < 20; ++i) {
    r.userdata = i + 1;
    std::vector<ClassifierRule> rules(i + 1, r);  // different sizes, too
    all.push_back(build_ok(rules));
    ASSERT_NE(all.back(), nullptr);
  }
  const Input in = input(kTcp, 1, ip(10, 2, 3, 4), 5, 6);
  for (uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ(all[i]->rule_count(), i + 1);
    EXPECT_EQ(classify_one(*all[i], in), i + 1);
  }
  // Destroying some leaves the others intact.
  for (uint32_t i = 0; i < 20; i += 2) all[i].reset();
  auto late = build_ok({rule(99, 1)});
  ASSERT_NE(late, nullptr);
  for (uint32_t i = 1; i < 20; i += 2) EXPECT_EQ(classify_one(*all[i], in), i + 1);
  EXPECT_EQ(classify_one(*late, in), 99u);
}

// ---- Random rule sets against a brute-force reference ------------------------------------------

uint32_t reference_classify(const std::vector<ClassifierRule>& rules, const Tuple& t) {
  const ClassifierRule* best = nullptr;
  for (const ClassifierRule& r : rules) {
    const uint32_t smask = r.src_depth == 0 ? 0 : ~uint32_t{0} << (32 - r.src_depth);
    const uint32_t dmask = r.dst_depth == 0 ? 0 : ~uint32_t{0} << (32 - r.dst_depth);
    if (!r.any_protocol && r.protocol != t.proto) continue;
    if (((t.src ^ r.src_addr) & smask) != 0 || ((t.dst ^ r.dst_addr) & dmask) != 0) continue;
    if (t.sport < r.src_port_min || t.sport > r.src_port_max) continue;
    if (t.dport < r.dst_port_min || t.dport > r.dst_port_max) continue;
    // Strictly greater: among equal priorities the first listed rule wins.
    if (best == nullptr || r.priority > best->priority) best = &r;
  }
  return best == nullptr ? Classifier::kNoMatch : best->userdata;
}

class RandomSet {
 public:
  explicit RandomSet(uint32_t seed) : rng_(seed) {
    for (auto& base : bases_) base = ip(10, pick(0, 255), pick(0, 255), 0);
  }

  uint32_t pick(uint32_t lo, uint32_t hi) {
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng_);
  }
  bool chance(uint32_t percent) { return pick(0, 99) < percent; }

  uint8_t random_protocol() {
    const uint32_t p = pick(0, 99);
    if (p < 40) return kTcp;
    if (p < 75) return kUdp;
    if (p < 85) return kIcmp;
    return static_cast<uint8_t>(pick(0, 255));
  }
  uint32_t random_address() {
    return chance(80) ? bases_[pick(0, kBases - 1)] | pick(0, 0xffff) : pick(0, UINT32_MAX);
  }
  uint8_t random_depth() {
    const uint32_t p = pick(0, 99);
    if (p < 25) return 0;
    return static_cast<uint8_t>(p < 35 ? pick(1, 15) : pick(16, 32));
  }
  void random_ports(uint16_t* min, uint16_t* max) {
    static constexpr uint16_t kCommon[] = {22, 53, 80, 123, 443, 3306, 5432, 8080, 8443};
    const uint32_t p = pick(0, 99);
    if (p < 40) {
      *min = 0;
      *max = UINT16_MAX;
    } else if (p < 60) {
      *min = *max = kCommon[pick(0, std::size(kCommon) - 1)];
    } else if (p < 75) {
      *min = *max = static_cast<uint16_t>(pick(0, UINT16_MAX));
    } else {
      *min = static_cast<uint16_t>(pick(0, UINT16_MAX));
      *max = static_cast<uint16_t>(std::min<uint32_t>(UINT16_MAX, *min + pick(0, 5000)));
    }
  }

  std::vector<ClassifierRule> rules(size_t n) {
    std::vector<ClassifierRule> out(n);
    for (size_t i = 0; i < n; ++i) {
      ClassifierRule& r = out[i];
      r.any_protocol = chance(25);
      r.protocol = r.any_protocol ? 0 : random_protocol();
      r.src_addr = random_address();
      r.src_depth = random_depth();
      r.dst_addr = random_address();
      r.dst_depth = random_depth();
      // At least one address is a /16 or longer, so that the rules do not cover everything.
      if (r.src_depth < 16 && r.dst_depth < 16) r.dst_depth = static_cast<uint8_t>(pick(16, 32));
      random_ports(&r.src_port_min, &r.src_port_max);
      random_ports(&r.dst_port_min, &r.dst_port_max);
      // Half the rules share a small priority range, so there are ties.
      r.priority = static_cast<int32_t>(
          chance(50) ? pick(0, 999) : pick(0, static_cast<uint32_t>(Classifier::kMaxPriority)));
      // One rule in ten repeats the match of an earlier rule with the same priority or one
      // next to it: equal priorities on exactly the same packets.
      if (i > 0 && chance(10)) {
        r = out[pick(0, static_cast<uint32_t>(i - 1))];
        r.priority = std::clamp<int32_t>(r.priority + static_cast<int32_t>(pick(0, 2)) - 1, 0,
                                         Classifier::kMaxPriority);
      }
      r.userdata = static_cast<uint32_t>(i + 1);
    }
    return out;
  }

  // 70% of the packets are drawn inside a random rule, the rest anywhere.
  Tuple packet(const std::vector<ClassifierRule>& rules) {
    Tuple t;
    if (chance(70)) {
      const ClassifierRule& r = rules[pick(0, static_cast<uint32_t>(rules.size() - 1))];
      const uint32_t smask = r.src_depth == 0 ? 0 : ~uint32_t{0} << (32 - r.src_depth);
      const uint32_t dmask = r.dst_depth == 0 ? 0 : ~uint32_t{0} << (32 - r.dst_depth);
      t.proto = r.any_protocol ? random_protocol() : r.protocol;
      t.src = (r.src_addr & smask) | (random_address() & ~smask);
      t.dst = (r.dst_addr & dmask) | (random_address() & ~dmask);
      t.sport = static_cast<uint16_t>(pick(r.src_port_min, r.src_port_max));
      t.dport = static_cast<uint16_t>(pick(r.dst_port_min, r.dst_port_max));
    } else {
      t.proto = random_protocol();
      t.src = chance(50) ? random_address() : pick(0, UINT32_MAX);
      t.dst = chance(50) ? random_address() : pick(0, UINT32_MAX);
      t.sport = static_cast<uint16_t>(pick(0, UINT16_MAX));
      t.dport = static_cast<uint16_t>(pick(0, UINT16_MAX));
    }
    return t;
  }

 private:
  static constexpr uint32_t kBases = 64;
  std::mt19937 rng_;
  uint32_t bases_[kBases];
};

// Builds `rules` with rte_acl's DEBUG log captured, and returns the run-time memory rte_acl
// reports for the tries ("total: N bytes"), or 0 if it did not say.
std::unique_ptr<Classifier> build_reporting_trie_bytes(const std::vector<ClassifierRule>& rules,
                                                       size_t* trie_bytes) {
  char* log = nullptr;
  size_t log_len = 0;
  FILE* stream = open_memstream(&log, &log_len);
  const int old_level = rte_log_get_level(RTE_LOGTYPE_ACL);
  rte_openlog_stream(stream);
  rte_log_set_level(RTE_LOGTYPE_ACL, RTE_LOG_DEBUG);
  auto c = build_ok(rules);
  rte_log_set_level(RTE_LOGTYPE_ACL, static_cast<uint32_t>(old_level));
  rte_openlog_stream(nullptr);
  std::fclose(stream);
  *trie_bytes = 0;
  const char* total = log == nullptr ? nullptr : std::strstr(log, "total: ");
  if (total != nullptr) *trie_bytes = std::strtoull(total + 7, nullptr, 10);
  if (c == nullptr && log != nullptr) std::printf("rte_acl said:\n%s\n", log);
  std::free(log);
  return c;
}

void run_random(size_t n_rules, uint32_t seed) {
  RandomSet gen(seed);
  const std::vector<ClassifierRule> rules = gen.rules(n_rules);
  const auto t0 = std::chrono::steady_clock::now();
  size_t trie_bytes = 0;
  auto c = build_reporting_trie_bytes(rules, &trie_bytes);
  const double build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->rule_count(), n_rules);
  std::printf(
      "[ info     ] %zu rules: build %.1f ms, memory_bytes() %zu (%.2f MiB), rte_acl tries "
      "%zu bytes\n",
      n_rules, build_ms, c->memory_bytes(), c->memory_bytes() / 1048576.0, trie_bytes);
  // memory_bytes() covers the tries rte_acl reports plus the context and its copy of the rules
  // (RTE_ACL_RULE_SZ(5) = 96 bytes each), and not much else.
  EXPECT_GT(trie_bytes, 0u) << "rte_acl did not log its run-time memory";
  EXPECT_GE(c->memory_bytes(), trie_bytes + 96 * n_rules);
  EXPECT_LE(c->memory_bytes(), trie_bytes + 96 * n_rules + 64 * 1024);

  constexpr size_t kPackets = 20000;
  std::vector<Tuple> tuples(kPackets);
  std::vector<Input> inputs(kPackets);
  std::vector<const uint8_t*> ptrs(kPackets);
  for (size_t i = 0; i < kPackets; ++i) {
    tuples[i] = gen.packet(rules);
    inputs[i] = input(tuples[i]);
    ptrs[i] = inputs[i].b;
  }
  std::vector<uint32_t> results(kPackets, 0xdeadbeef);
  for (size_t i = 0; i < kPackets; i += 32) {
    c->classify(ptrs.data() + i, results.data() + i,
                static_cast<uint32_t>(std::min<size_t>(32, kPackets - i)));
  }
  size_t mismatches = 0, matched = 0;
  std::vector<bool> winners(n_rules + 1);
  for (size_t i = 0; i < kPackets; ++i) {
    const uint32_t want = reference_classify(rules, tuples[i]);
    if (results[i] != want && ++mismatches <= 10) {
      const Tuple& t = tuples[i];
      ADD_FAILURE() << "packet " << i << " proto " << int{t.proto} << " src " << std::hex << t.src
                    << " dst " << t.dst << std::dec << " sport " << t.sport << " dport " << t.dport
                    << ": classifier " << results[i] << ", reference " << want;
    }
    if (want != kNo) ++matched;
    winners[want] = true;
  }
  EXPECT_EQ(mismatches, 0u);
  const size_t distinct = static_cast<size_t>(std::count(winners.begin(), winners.end(), true));
  std::printf("[ info     ] %zu packets: %zu match a rule, %zu distinct results\n", kPackets,
              matched, distinct);
  // The test means something only if both outcomes are common and many rules win somewhere.
  EXPECT_GT(matched, kPackets / 2);
  EXPECT_GT(kPackets - matched, kPackets / 50);
  EXPECT_GT(distinct, std::min<size_t>(n_rules, 5000) / 5);

  // One call for everything (n > 64 and not a multiple of 64) gives the same answers.
  std::vector<uint32_t> at_once(kPackets + 1, 0xdeadbeef);
  c->classify(ptrs.data(), at_once.data(), kPackets - 7);
  EXPECT_EQ(at_once[kPackets - 7], 0xdeadbeefu);
  for (size_t i = 0; i < kPackets - 7; ++i) ASSERT_EQ(at_once[i], results[i]) << i;
}

TEST(ClassifierRandom, TenThousandRules) {
  run_random(10000, 12345);
}

TEST(ClassifierRandom, OneThousandRules) {
  run_random(1000, 777);
}

TEST(ClassifierRandom, ConcurrentClassifyMatchesSingleThreaded) {
  RandomSet gen(4242);
  const std::vector<ClassifierRule> rules = gen.rules(2000);
  auto c = build_ok(rules);
  ASSERT_NE(c, nullptr);
  constexpr size_t kPackets = 20000;
  std::vector<Input> inputs(kPackets);
  std::vector<const uint8_t*> ptrs(kPackets);
  for (size_t i = 0; i < kPackets; ++i) {
    inputs[i] = input(gen.packet(rules));
    ptrs[i] = inputs[i].b;
  }
  std::vector<uint32_t> expected(kPackets);
  c->classify(ptrs.data(), expected.data(), kPackets);

  constexpr int kThreads = 2;
  constexpr int kPasses = 10;
  std::atomic<int> ready{0};
  std::vector<size_t> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      std::vector<uint32_t> results(kPackets);
      for (int pass = 0; pass < kPasses; ++pass) {
        std::fill(results.begin(), results.end(), 0xdeadbeef);
        // Each thread walks the packets in its own order and burst size.
        const size_t burst = t == 0 ? 32 : 17;
        for (size_t i = 0; i < kPackets; i += burst) {
          const size_t at = t == 0 ? i : kPackets - std::min(kPackets, i + burst);
          const size_t n = std::min(burst, kPackets - i);
          c->classify(ptrs.data() + at, results.data() + at, static_cast<uint32_t>(n));
        }
        for (size_t i = 0; i < kPackets; ++i) mismatches[t] += results[i] != expected[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0u) << "thread " << t;
  size_t matched = 0;
  for (uint32_t r : expected) matched += r != kNo;
  EXPECT_GT(matched, kPackets / 2);
}

}  // namespace
}  // namespace dvr::dp
