// NAT header rewriting (dataplane/nat/nat_rewrite.h): every checksum the incremental updates
// leave must be exactly what a from-scratch computation over the rewritten packet gives. The
// reference checksums here are written independently of the product code (plain RFC 1071 sums
// over big-endian 16-bit words). Pure functions: no EAL.
#include "nat/nat_rewrite.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace dvr::dp {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17;

// --- Byte access (network order) -------------------------------------------------------------

uint16_t Get16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
uint32_t Get32(const uint8_t* p) {
  return uint32_t{Get16(p)} << 16 | Get16(p + 2);
}
void Put32(uint8_t* p, uint32_t v) {
  Put16(p, static_cast<uint16_t>(v >> 16));
  Put16(p + 2, static_cast<uint16_t>(v));
}

rte_ipv4_hdr* Ip(Bytes& b, size_t offset = 0) {
  return reinterpret_cast<rte_ipv4_hdr*>(b.data() + offset);
}

// --- Reference checksums ---------------------------------------------------------------------

// One's complement sum of big-endian 16-bit words (an odd last byte padded with zero).
uint32_t Sum(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) acc += Get16(p + i);
  if (n % 2 == 1) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}
uint16_t Finish(uint32_t acc) {
  while ((acc >> 16) != 0) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(~acc);
}

uint32_t Ihl(const Bytes& b, size_t off = 0) {
  return uint32_t{b[off] & 0x0Fu} * 4;
}
uint32_t TotalLength(const Bytes& b, size_t off = 0) {
  return Get16(b.data() + off + 2);
}
bool FirstFragment(const Bytes& b, size_t off = 0) {
  return (Get16(b.data() + off + 6) & 0x1FFF) == 0;
}

// The sum of `n` bytes as above, with the (aligned) 16-bit checksum field at `skip` taken as 0.
uint32_t SumSkipping(const uint8_t* p, size_t n, size_t skip, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) {
    if (i != skip) acc += Get16(p + i);
  }
  if (n % 2 == 1) acc += uint32_t{p[n - 1]} << 8;
  return acc;
}

uint16_t RefIpChecksum(const Bytes& b, size_t off = 0) {
  return Finish(SumSkipping(b.data() + off, Ihl(b, off), 10));
}

// TCP/UDP over the pseudo-header; the checksum field at `csum_off` within the L4 header is taken
// as zero. `len` bytes of L4 from `l4`.
uint16_t RefL4Checksum(const uint8_t* ip, const uint8_t* l4, uint32_t len, uint8_t proto,
                       uint32_t csum_off) {
  uint32_t acc = Sum(ip + 12, 8);  // source and destination addresses
  acc += proto;
  acc += len;
  const uint16_t c = Finish(SumSkipping(l4, len, csum_off, acc));
  return proto == kProtoUdp && c == 0 ? 0xFFFF : c;
}

uint16_t RefIcmpChecksum(const uint8_t* icmp, uint32_t len) {
  return Finish(SumSkipping(icmp, len, 2));
}

// Recomputes every checksum of the whole IPv4 packet at `off` from scratch: the header's, and
// for a first fragment the TCP/UDP (a UDP checksum of 0, "none", stays 0) or ICMP one over the
// whole payload (total_length).
void FixChecksums(Bytes& b, size_t off = 0) {
  uint8_t* ip = b.data() + off;
  Put16(ip + 10, RefIpChecksum(b, off));
  if (!FirstFragment(b, off)) return;
  const uint32_t ihl = Ihl(b, off);
  const uint32_t len = TotalLength(b, off) - ihl;
  uint8_t* l4 = ip + ihl;
  switch (ip[9]) {
    case kProtoTcp:
      Put16(l4 + 16, RefL4Checksum(ip, l4, len, kProtoTcp, 16));
      break;
    case kProtoUdp:
      if (Get16(l4 + 6) != 0) Put16(l4 + 6, RefL4Checksum(ip, l4, len, kProtoUdp, 6));
      break;
    case kProtoIcmp:
      Put16(l4 + 2, RefIcmpChecksum(l4, len));
      break;
    default:
      break;
  }
}

// --- Packet builder --------------------------------------------------------------------------

enum class Kind { kTcp, kUdp, kUdpNoChecksum, kEchoRequest, kEchoReply };
constexpr Kind kKinds[] = {Kind::kTcp, Kind::kUdp, Kind::kUdpNoChecksum, Kind::kEchoRequest,
                           Kind::kEchoReply};

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kTcp:
      return "tcp";
    case Kind::kUdp:
      return "udp";
    case Kind::kUdpNoChecksum:
      return "udp-no-checksum";
    case Kind::kEchoRequest:
      return "echo-request";
    default:
      return "echo-reply";
  }
}

uint8_t ProtoOf(Kind k) {
  switch (k) {
    case Kind::kTcp:
      return kProtoTcp;
    case Kind::kUdp:
    case Kind::kUdpNoChecksum:
      return kProtoUdp;
    default:
      return kProtoIcmp;
  }
}

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  uint32_t U32() { return static_cast<uint32_t>(gen()); }
  uint32_t Below(uint32_t n) { return U32() % n; }
  uint16_t U16() { return static_cast<uint16_t>(U32()); }
  uint8_t U8() { return static_cast<uint8_t>(U32()); }
  bool Coin() { return (U32() & 1) != 0; }
};

// A complete IPv4 packet of `kind`: `option_words` 32-bit words of IP options, `payload` bytes
// after the L4 header, random addresses, ports, identifiers, flags and contents, every checksum
// right.
Bytes Build(Kind kind, uint32_t option_words, uint32_t payload, Rng& rng) {
  const uint32_t ihl = 20 + option_words * 4;
  uint32_t l4_header = 8;
  uint32_t tcp_words = 5;
  if (kind == Kind::kTcp) {
    tcp_words = 5 + rng.Below(4);  // with 0..3 words of TCP options
    l4_header = tcp_words * 4;
  }
  const uint32_t total = ihl + l4_header + payload;
  Bytes b(total);
  for (auto& x : b) x = rng.U8();
  uint8_t* ip = b.data();
  ip[0] = static_cast<uint8_t>(0x40 | (ihl / 4));
  Put16(ip + 2, static_cast<uint16_t>(total));
  Put16(ip + 6, rng.Coin() ? 0x4000 : 0);  // DF or nothing: a whole datagram
  ip[8] = static_cast<uint8_t>(1 + rng.Below(255));
  ip[9] = ProtoOf(kind);
  uint8_t* l4 = ip + ihl;
  switch (kind) {
    case Kind::kTcp:
      l4[12] = static_cast<uint8_t>(tcp_words << 4);
      break;
    case Kind::kUdp:
      Put16(l4 + 4, static_cast<uint16_t>(l4_header + payload));
      Put16(l4 + 6, 1);  // any non-zero value: FixChecksums computes it
      break;
    case Kind::kUdpNoChecksum:
      Put16(l4 + 4, static_cast<uint16_t>(l4_header + payload));
      Put16(l4 + 6, 0);
      break;
    case Kind::kEchoRequest:
      l4[0] = 8;
      l4[1] = 0;
      break;
    case Kind::kEchoReply:
      l4[0] = 0;
      l4[1] = 0;
      break;
  }
  FixChecksums(b);
  return b;
}

// What the rewrite must produce, computed the slow way: set the fields, recompute everything.
void ApplyNat(Bytes& b, size_t off, NatSide side, uint32_t addr, bool set_port, uint16_t port) {
  uint8_t* ip = b.data() + off;
  Put32(ip + (side == NatSide::kSource ? 12 : 16), addr);
  if (set_port && FirstFragment(b, off)) {
    uint8_t* l4 = ip + Ihl(b, off);
    if (ip[9] == kProtoTcp || ip[9] == kProtoUdp) {
      Put16(l4 + (side == NatSide::kSource ? 0 : 2), port);
    } else if (ip[9] == kProtoIcmp && (l4[0] == 8 || l4[0] == 0)) {
      Put16(l4 + 4, port);
    }
  }
  FixChecksums(b, off);
}

std::string Hex(const Bytes& b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i != 0 && i % 4 == 0) s += ' ';
    s += digits[b[i] >> 4];
    s += digits[b[i] & 15];
  }
  return s;
}

// --- csum_replace16 / csum_replace32 ---------------------------------------------------------

TEST(CsumReplace, Rfc1624Example) {
  // RFC 1624 section 4: checksum 0xDD2F, a field 0x5555 becomes 0x3285. Eqn. 3 gives 0x0000 (the
  // older eqn. 2 wrongly gave 0xFFFF).
  EXPECT_EQ(csum_replace16(0xDD2F, 0x5555, 0x3285), 0x0000);
  EXPECT_EQ(csum_replace32(0xDD2F, 0x00005555, 0x00003285), 0x0000);
  EXPECT_EQ(csum_replace32(0xDD2F, 0x55550000, 0x32850000), 0x0000);
}

TEST(CsumReplace, SameWordKeepsTheChecksum) {
  Rng rng(7);
  for (int i = 0; i < 10000; ++i) {
    uint16_t c = rng.U16();
    if (c == 0xFFFF) c = 0x1234;  // -0: an impossible checksum of non-zero data
    const uint16_t w = rng.U16();
    EXPECT_EQ(csum_replace16(c, w, w), c) << c << " " << w;
    const uint32_t w32 = rng.U32();
    EXPECT_EQ(csum_replace32(c, w32, w32), c) << c << " " << w32;
  }
}

TEST(CsumReplace, RoundTripRestoresTheChecksum) {
  Rng rng(11);
  for (int i = 0; i < 10000; ++i) {
    Bytes data(2 + 2 * rng.Below(40));
    for (auto& x : data) x = rng.U8();
    const uint16_t c = Finish(Sum(data.data(), data.size()));
    if (c == 0xFFFF) continue;  // all-zero data: -0, the one ambiguous value
    const uint16_t a = rng.U16(), b = rng.U16();
    EXPECT_EQ(csum_replace16(csum_replace16(c, a, b), b, a), c);
  }
}

// Changing one aligned word of random data: the incremental checksum is exactly the checksum of
// the changed data computed from scratch (network-order words as loaded from memory, the way
// the dataplane calls it).
TEST(CsumReplace, MatchesFromScratchOnRandomData) {
  Rng rng(12345);
  for (int i = 0; i < 20000; ++i) {
    Bytes data(4 + 2 * rng.Below(60));
    for (auto& x : data) x = rng.U8();
    const uint16_t before = Finish(Sum(data.data(), data.size()));
    if (rng.Coin()) {
      const size_t at = 2 * rng.Below(static_cast<uint32_t>(data.size() / 2));
      uint16_t old_raw, new_raw;
      std::memcpy(&old_raw, data.data() + at, 2);
      Put16(data.data() + at, rng.Below(8) == 0 ? uint16_t{0} : rng.U16());
      std::memcpy(&new_raw, data.data() + at, 2);
      uint16_t c_raw;
      Bytes c(2);
      Put16(c.data(), before);
      std::memcpy(&c_raw, c.data(), 2);
      const uint16_t out_raw = csum_replace16(c_raw, old_raw, new_raw);
      std::memcpy(c.data(), &out_raw, 2);
      // All-zero data sums to zero, whose two forms (0x0000, 0xFFFF) are both right.
      if (Sum(data.data(), data.size()) != 0) {
        EXPECT_EQ(Get16(c.data()), Finish(Sum(data.data(), data.size()))) << i;
      }
    } else {
      const size_t at = 2 * rng.Below(static_cast<uint32_t>(data.size() / 2 - 1));
      uint32_t old_raw, new_raw;
      std::memcpy(&old_raw, data.data() + at, 4);
      Put32(data.data() + at, rng.Below(8) == 0 ? 0u : rng.U32());
      std::memcpy(&new_raw, data.data() + at, 4);
      uint16_t c_raw;
      Bytes c(2);
      Put16(c.data(), before);
      std::memcpy(&c_raw, c.data(), 2);
      const uint16_t out_raw = csum_replace32(c_raw, old_raw, new_raw);
      std::memcpy(c.data(), &out_raw, 2);
      // All-zero data sums to zero, whose two forms (0x0000, 0xFFFF) are both right.
      if (Sum(data.data(), data.size()) != 0) {
        EXPECT_EQ(Get16(c.data()), Finish(Sum(data.data(), data.size()))) << i;
      }
    }
  }
}

TEST(CsumReplace, Replace32IsTwoReplace16) {
  Rng rng(3);
  for (int i = 0; i < 10000; ++i) {
    const uint16_t c = rng.U16();
    const uint32_t a = rng.U32(), b = rng.U32();
    const uint16_t two = csum_replace16(
        csum_replace16(c, static_cast<uint16_t>(a >> 16), static_cast<uint16_t>(b >> 16)),
        static_cast<uint16_t>(a), static_cast<uint16_t>(b));
    EXPECT_EQ(csum_replace32(c, a, b), two);
  }
}

// --- nat_rewrite -----------------------------------------------------------------------------

TEST(NatRewrite, RandomPacketsMatchFromScratchChecksums) {
  Rng rng(20240601);
  int checked = 0;
  for (int i = 0; i < 4000; ++i) {
    const Kind kind = kKinds[rng.Below(5)];
    const uint32_t options = rng.Coin() ? 0 : 1 + rng.Below(10);
    const uint32_t payload = rng.Below(80);  // odd lengths too
    Bytes pkt = Build(kind, options, payload, rng);
    const NatSide side = rng.Coin() ? NatSide::kSource : NatSide::kDestination;
    const uint32_t addr = rng.Below(16) == 0 ? 0xFFFFFFFFu : rng.U32();
    const bool set_port = rng.Coin();
    const uint16_t port = rng.Below(16) == 0 ? 0 : rng.U16();
    Bytes want = pkt;
    ApplyNat(want, 0, side, addr, set_port, port);
    if (kind == Kind::kUdpNoChecksum) {
      ASSERT_EQ(Get16(want.data() + Ihl(want) + 6), 0);
    }
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), side, addr, set_port, port);
    ASSERT_EQ(Hex(pkt), Hex(want))
        << "iteration " << i << " " << KindName(kind) << " options " << options << " side "
        << (side == NatSide::kSource ? "src" : "dst") << " set_port " << set_port;
    ++checked;
  }
  EXPECT_EQ(checked, 4000);
}

// The incremental update is right whatever the starting checksum, including -0/+0 edges: the
// rewritten address or port is chosen so that the new UDP sum is exactly 0xFFFF (a computed 0,
// sent as 0xFFFF), and back.
TEST(NatRewrite, UdpComputedZeroIsSentAsFFFF) {
  Rng rng(99);
  for (int i = 0; i < 200; ++i) {
    const uint32_t options = i % 2 == 0 ? 0 : 2;
    Bytes want = Build(Kind::kUdp, options, 2 + 2 * rng.Below(20), rng);
    const uint32_t ihl = Ihl(want);
    uint8_t* l4 = want.data() + ihl;
    const bool source = i % 4 < 2;
    const bool set_port = i % 3 != 0;
    // Make the rewritten packet's computed checksum 0: adjust the payload's first word.
    Put16(l4 + 8, 0);
    Put16(l4 + 6, 0);
    const uint32_t len = TotalLength(want) - ihl;
    uint32_t acc = Sum(want.data() + 12, 8) + kProtoUdp + len;
    acc = Sum(l4, len, acc);
    while ((acc >> 16) != 0) acc = (acc & 0xFFFF) + (acc >> 16);
    Put16(l4 + 8, static_cast<uint16_t>(~acc));  // the sum becomes 0xFFFF: checksum 0
    Put16(want.data() + 10, RefIpChecksum(want));
    Put16(l4 + 6, 0xFFFF);
    {
      // Sanity: the reference agrees this is a computed 0.
      Bytes probe(l4, l4 + len);
      uint32_t a = Sum(want.data() + 12, 8) + kProtoUdp + len;
      Put16(probe.data() + 6, 0);
      ASSERT_EQ(Finish(Sum(probe.data(), probe.size(), a)), 0) << i;
    }
    // The packet before NAT: another address (and port), its own checksum from scratch.
    Bytes pkt = want;
    const uint32_t new_addr = Get32(want.data() + (source ? 12 : 16));
    const uint16_t new_port = Get16(l4 + (source ? 0 : 2));
    Put32(pkt.data() + (source ? 12 : 16), rng.U32());
    if (set_port) Put16(pkt.data() + ihl + (source ? 0 : 2), rng.U16());
    Put16(pkt.data() + ihl + 6, 1);
    FixChecksums(pkt);
    ASSERT_NE(Get16(pkt.data() + ihl + 6), 0xFFFF);
    Bytes back = pkt;  // for the reverse direction
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()),
                source ? NatSide::kSource : NatSide::kDestination, new_addr, set_port, new_port);
    EXPECT_EQ(Get16(pkt.data() + ihl + 6), 0xFFFF) << i;
    EXPECT_EQ(Hex(pkt), Hex(want)) << i;
    // And from the 0xFFFF packet back to the original.
    const uint32_t old_addr = Get32(back.data() + (source ? 12 : 16));
    const uint16_t old_port = Get16(back.data() + ihl + (source ? 0 : 2));
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()),
                source ? NatSide::kSource : NatSide::kDestination, old_addr, set_port, old_port);
    EXPECT_EQ(Hex(pkt), Hex(back)) << i;
  }
}

TEST(NatRewrite, UdpWithoutChecksumStaysWithout) {
  Rng rng(5);
  for (int i = 0; i < 500; ++i) {
    Bytes pkt = Build(Kind::kUdpNoChecksum, i % 3, rng.Below(40), rng);
    const uint32_t ihl = Ihl(pkt);
    const NatSide side = i % 2 == 0 ? NatSide::kSource : NatSide::kDestination;
    const uint16_t port = rng.U16();
    const uint32_t addr = rng.U32();
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), side, addr, true, port);
    EXPECT_EQ(Get16(pkt.data() + ihl + 6), 0) << i;
    EXPECT_EQ(Get16(pkt.data() + ihl + (side == NatSide::kSource ? 0 : 2)), port);
    EXPECT_EQ(Get32(pkt.data() + (side == NatSide::kSource ? 12 : 16)), addr);
    EXPECT_EQ(Get16(pkt.data() + 10), RefIpChecksum(pkt));
  }
}

TEST(NatRewrite, AddressOnlyLeavesThePortsAlone) {
  Rng rng(17);
  Bytes pkt = Build(Kind::kTcp, 0, 10, rng);
  const uint32_t ihl = Ihl(pkt);
  Put16(pkt.data() + ihl, 40000);
  Put16(pkt.data() + ihl + 2, 443);
  FixChecksums(pkt);
  nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), NatSide::kSource, 0xC0000201, false,
              1234);
  EXPECT_EQ(Get32(pkt.data() + 12), 0xC0000201u);
  EXPECT_EQ(Get16(pkt.data() + ihl), 40000);
  EXPECT_EQ(Get16(pkt.data() + ihl + 2), 443);
  EXPECT_EQ(Get16(pkt.data() + 10), RefIpChecksum(pkt));
  EXPECT_EQ(Get16(pkt.data() + ihl + 16),
            RefL4Checksum(pkt.data(), pkt.data() + ihl, TotalLength(pkt) - ihl, kProtoTcp, 16));
  // Destination side with a port: only the destination port changes.
  nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), NatSide::kDestination, 0x0A000005, true,
              8443);
  EXPECT_EQ(Get32(pkt.data() + 16), 0x0A000005u);
  EXPECT_EQ(Get16(pkt.data() + ihl), 40000);
  EXPECT_EQ(Get16(pkt.data() + ihl + 2), 8443);
  EXPECT_EQ(Get16(pkt.data() + ihl + 16),
            RefL4Checksum(pkt.data(), pkt.data() + ihl, TotalLength(pkt) - ihl, kProtoTcp, 16));
}

TEST(NatRewrite, IcmpEchoIdentifierIsThePort) {
  Rng rng(23);
  for (Kind k : {Kind::kEchoRequest, Kind::kEchoReply}) {
    for (NatSide side : {NatSide::kSource, NatSide::kDestination}) {
      Bytes pkt = Build(k, 1, 56, rng);
      const uint32_t ihl = Ihl(pkt);
      const uint16_t seq = Get16(pkt.data() + ihl + 6);
      nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), side, 0x0A0000FE, true, 0xBEEF);
      EXPECT_EQ(Get16(pkt.data() + ihl + 4), 0xBEEF) << KindName(k);
      EXPECT_EQ(Get16(pkt.data() + ihl + 6), seq);
      EXPECT_EQ(Get16(pkt.data() + ihl + 2),
                RefIcmpChecksum(pkt.data() + ihl, TotalLength(pkt) - ihl));
      EXPECT_EQ(Get16(pkt.data() + 10), RefIpChecksum(pkt));
    }
  }
}

// ICMP other than echo has no identifier: only the IP header changes, even with set_port.
TEST(NatRewrite, IcmpNonEchoChangesOnlyTheIpHeader) {
  Rng rng(29);
  for (uint8_t type : {3, 5, 11, 13, 14, 17}) {
    Bytes pkt = Build(Kind::kEchoRequest, 0, 20, rng);
    const uint32_t ihl = Ihl(pkt);
    pkt[ihl] = type;
    FixChecksums(pkt);
    const Bytes l4_before(pkt.begin() + ihl, pkt.end());
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), NatSide::kDestination, 0x0A000009, true,
                7777);
    EXPECT_EQ(Bytes(pkt.begin() + ihl, pkt.end()), l4_before) << int{type};
    EXPECT_EQ(Get32(pkt.data() + 16), 0x0A000009u);
    EXPECT_EQ(Get16(pkt.data() + 10), RefIpChecksum(pkt));
  }
}

// Other protocols (e.g. GRE, ESP): the addresses only.
TEST(NatRewrite, OtherProtocolChangesOnlyTheIpHeader) {
  Rng rng(31);
  for (uint8_t proto : {0, 2, 47, 50, 132}) {
    Bytes pkt = Build(Kind::kTcp, 0, 20, rng);
    pkt[9] = proto;
    FixChecksums(pkt);
    const uint32_t ihl = Ihl(pkt);
    const Bytes l4_before(pkt.begin() + ihl, pkt.end());
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), NatSide::kSource, 0x01020304, true, 1);
    EXPECT_EQ(Bytes(pkt.begin() + ihl, pkt.end()), l4_before) << int{proto};
    EXPECT_EQ(Get32(pkt.data() + 12), 0x01020304u);
    EXPECT_EQ(Get16(pkt.data() + 10), RefIpChecksum(pkt));
  }
}

// A non-first fragment carries no L4 header: whatever its payload looks like, only the IP
// header changes.
TEST(NatRewrite, NonFirstFragmentChangesOnlyTheIpHeader) {
  Rng rng(37);
  for (int i = 0; i < 500; ++i) {
    const Kind kind = kKinds[rng.Below(5)];
    Bytes pkt = Build(kind, i % 2 == 0 ? 0 : 3, 16 + rng.Below(40), rng);
    const uint16_t offset = static_cast<uint16_t>(1 + rng.Below(0x1FFF));
    Put16(pkt.data() + 6, static_cast<uint16_t>((rng.Coin() ? 0x2000 : 0) | offset));
    Put16(pkt.data() + 10, RefIpChecksum(pkt));
    const uint32_t ihl = Ihl(pkt);
    const Bytes l4_before(pkt.begin() + ihl, pkt.end());
    const NatSide side = rng.Coin() ? NatSide::kSource : NatSide::kDestination;
    const uint32_t addr = rng.U32();
    nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), side, addr, true, rng.U16());
    EXPECT_EQ(Bytes(pkt.begin() + ihl, pkt.end()), l4_before) << i;
    EXPECT_EQ(Get32(pkt.data() + (side == NatSide::kSource ? 12 : 16)), addr);
    EXPECT_EQ(Get16(pkt.data() + 10), RefIpChecksum(pkt)) << i;
  }
}

// The first fragment (MF set, offset 0) has the L4 header: rewritten like a whole packet (its
// checksum covers the whole datagram, so the incremental update is the only correct one).
TEST(NatRewrite, FirstFragmentIsRewrittenWhole) {
  Rng rng(41);
  Bytes pkt = Build(Kind::kUdp, 0, 32, rng);
  Put16(pkt.data() + 6, 0x2000);  // MF
  FixChecksums(pkt);
  Bytes want = pkt;
  ApplyNat(want, 0, NatSide::kSource, 0xCB007105, true, 31000);
  nat_rewrite(Ip(pkt), static_cast<uint32_t>(pkt.size()), NatSide::kSource, 0xCB007105, true,
              31000);
  EXPECT_EQ(Hex(pkt), Hex(want));
}

// With only `avail` bytes present, nothing at or beyond `avail` is read into the result or
// written; what fits is rewritten as far as it is complete.
TEST(NatRewrite, TruncatedL4TouchesNothingBeyondAvail) {
  Rng rng(43);
  for (Kind kind : kKinds) {
    for (uint32_t options : {0u, 2u}) {
      const Bytes full = Build(kind, options, 12, rng);
      const uint32_t ihl = Ihl(full);
      for (uint32_t avail = ihl; avail <= full.size(); ++avail) {
        // The packet, then a canary tail the function must not touch.
        Bytes buf = full;
        buf.resize(full.size() + 64, 0xA5);
        for (size_t j = avail; j < full.size(); ++j) buf[j] = static_cast<uint8_t>(0x5A ^ j);
        const Bytes before = buf;
        nat_rewrite(Ip(buf), avail, NatSide::kSource, 0x64400001, true, 0x4242);
        const std::string where = std::string(KindName(kind)) + " options " +
                                  std::to_string(options) + " avail " + std::to_string(avail);
        for (size_t j = avail; j < buf.size(); ++j) {
          ASSERT_EQ(buf[j], before[j]) << where << " byte " << j;
        }
        // The IP header is always rewritten.
        EXPECT_EQ(Get32(buf.data() + 12), 0x64400001u) << where;
        EXPECT_EQ(Get16(buf.data() + 10), RefIpChecksum(buf)) << where;
        const uint8_t* l4 = buf.data() + ihl;
        const uint8_t* l4_before = before.data() + ihl;
        const bool header = avail >= ihl + 8;
        switch (kind) {
          case Kind::kTcp:
            // Ports with 8 bytes; the checksum only when it is there whole.
            EXPECT_EQ(Get16(l4), header ? 0x4242 : Get16(l4_before)) << where;
            if (avail < ihl + 18) {
              EXPECT_EQ(0,
                        std::memcmp(l4 + 2, l4_before + 2, avail - ihl >= 2 ? avail - ihl - 2 : 0))
                  << where;
            } else {
              Bytes want = full;
              ApplyNat(want, 0, NatSide::kSource, 0x64400001, true, 0x4242);
              EXPECT_EQ(Get16(l4 + 16), Get16(want.data() + ihl + 16)) << where;
            }
            break;
          case Kind::kUdp:
          case Kind::kUdpNoChecksum:
          case Kind::kEchoRequest:
          case Kind::kEchoReply:
            if (!header) {
              EXPECT_EQ(0, std::memcmp(l4, l4_before, avail - ihl)) << where;
            } else {
              Bytes want = full;
              ApplyNat(want, 0, NatSide::kSource, 0x64400001, true, 0x4242);
              EXPECT_EQ(Hex(Bytes(buf.begin(), buf.begin() + avail)),
                        Hex(Bytes(want.begin(), want.begin() + avail)))
                  << where;
            }
            break;
        }
      }
    }
  }
}

// --- nat_ports -------------------------------------------------------------------------------

TEST(NatPorts, TcpUdpPortsAndFlags) {
  Rng rng(47);
  Bytes tcp = Build(Kind::kTcp, 1, 0, rng);
  uint32_t ihl = Ihl(tcp);
  Put16(tcp.data() + ihl, 51000);
  Put16(tcp.data() + ihl + 2, 22);
  tcp[ihl + 13] = 0x12;  // SYN+ACK
  NatPorts p = nat_ports(Ip(tcp), static_cast<uint32_t>(tcp.size()));
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src, 51000);
  EXPECT_EQ(p.dst, 22);
  EXPECT_EQ(p.tcp_flags, 0x12);

  Bytes udp = Build(Kind::kUdp, 0, 4, rng);
  ihl = Ihl(udp);
  Put16(udp.data() + ihl, 53);
  Put16(udp.data() + ihl + 2, 33333);
  p = nat_ports(Ip(udp), static_cast<uint32_t>(udp.size()));
  EXPECT_TRUE(p.has_ports);
  EXPECT_EQ(p.src, 53);
  EXPECT_EQ(p.dst, 33333);
  EXPECT_EQ(p.tcp_flags, 0);
}

TEST(NatPorts, IcmpEchoIdentifierIsBothPorts) {
  Rng rng(53);
  for (Kind k : {Kind::kEchoRequest, Kind::kEchoReply}) {
    Bytes b = Build(k, 0, 8, rng);
    const uint32_t ihl = Ihl(b);
    Put16(b.data() + ihl + 4, 0x1F2E);
    const NatPorts p = nat_ports(Ip(b), static_cast<uint32_t>(b.size()));
    EXPECT_TRUE(p.has_ports) << KindName(k);
    EXPECT_EQ(p.src, 0x1F2E);
    EXPECT_EQ(p.dst, 0x1F2E);
    EXPECT_EQ(p.tcp_flags, 0);
  }
  // Other ICMP types have no ports.
  for (uint8_t type : {3, 4, 5, 9, 10, 11, 12, 13, 14, 255}) {
    Bytes b = Build(Kind::kEchoRequest, 0, 8, rng);
    b[Ihl(b)] = type;
    EXPECT_FALSE(nat_ports(Ip(b), static_cast<uint32_t>(b.size())).has_ports) << int{type};
  }
}

TEST(NatPorts, NoPortsForFragmentsOtherProtocolsAndTruncation) {
  Rng rng(59);
  for (Kind k : kKinds) {
    Bytes b = Build(k, 0, 8, rng);
    // A non-first fragment.
    Put16(b.data() + 6, 0x0001);
    EXPECT_FALSE(nat_ports(Ip(b), static_cast<uint32_t>(b.size())).has_ports) << KindName(k);
    Put16(b.data() + 6, 0x2000);  // the first fragment: ports
    EXPECT_TRUE(nat_ports(Ip(b), static_cast<uint32_t>(b.size())).has_ports) << KindName(k);
  }
  for (uint8_t proto : {0, 2, 4, 41, 47, 50, 51, 132}) {
    Bytes b = Build(Kind::kTcp, 0, 8, rng);
    b[9] = proto;
    EXPECT_FALSE(nat_ports(Ip(b), static_cast<uint32_t>(b.size())).has_ports) << int{proto};
  }
  // Truncation: TCP needs 14 bytes (ports and flags), UDP and ICMP echo 8.
  for (uint32_t options : {0u, 3u}) {
    Bytes tcp = Build(Kind::kTcp, options, 0, rng);
    const uint32_t ihl = Ihl(tcp);
    for (uint32_t avail = ihl; avail < ihl + 14; ++avail) {
      EXPECT_FALSE(nat_ports(Ip(tcp), avail).has_ports) << avail;
    }
    EXPECT_TRUE(nat_ports(Ip(tcp), ihl + 14).has_ports);
    for (Kind k : {Kind::kUdp, Kind::kEchoRequest, Kind::kEchoReply}) {
      Bytes b = Build(k, options, 0, rng);
      for (uint32_t avail = ihl; avail < ihl + 8; ++avail) {
        EXPECT_FALSE(nat_ports(Ip(b), avail).has_ports) << KindName(k) << " " << avail;
      }
      EXPECT_TRUE(nat_ports(Ip(b), ihl + 8).has_ports) << KindName(k);
    }
  }
}

// --- icmp_error_quote ------------------------------------------------------------------------

// An ICMP error of `type` (outer header with `outer_options` words) quoting the first `quote`
// bytes of `inner`. Every checksum right.
Bytes IcmpError(uint8_t type, uint8_t code, uint32_t outer_options, const Bytes& inner,
                uint32_t quote, Rng& rng) {
  const uint32_t ihl = 20 + outer_options * 4;
  Bytes b(ihl + 8 + quote);
  for (auto& x : b) x = rng.U8();
  b[0] = static_cast<uint8_t>(0x40 | (ihl / 4));
  Put16(b.data() + 2, static_cast<uint16_t>(b.size()));
  Put16(b.data() + 6, 0);
  b[8] = 64;
  b[9] = kProtoIcmp;
  b[ihl] = type;
  b[ihl + 1] = code;
  Put32(b.data() + ihl + 4, type == 12 ? 0x14000000u : 0);  // parameter problem: a pointer
  std::memcpy(b.data() + ihl + 8, inner.data(), quote);
  FixChecksums(b);
  return b;
}

TEST(IcmpErrorQuote, OnlyDestinationUnreachableTimeExceededParameterProblem) {
  Rng rng(61);
  const Bytes inner = Build(Kind::kUdp, 0, 20, rng);
  for (int type = 0; type < 256; ++type) {
    Bytes b = IcmpError(static_cast<uint8_t>(type), 0, 0, inner, 28, rng);
    rte_ipv4_hdr* quoted = nullptr;
    uint32_t quoted_avail = 0;
    const bool is_error = type == 3 || type == 11 || type == 12;
    EXPECT_EQ(icmp_error_quote(Ip(b), static_cast<uint32_t>(b.size()), quoted, quoted_avail),
              is_error)
        << type;
    if (is_error) {
      EXPECT_EQ(reinterpret_cast<uint8_t*>(quoted), b.data() + 28) << type;
      EXPECT_EQ(quoted_avail, 28u) << type;
    }
  }
}

TEST(IcmpErrorQuote, QuoteLengthRules) {
  Rng rng(67);
  for (uint32_t outer_options : {0u, 1u, 10u}) {
    for (uint32_t inner_options : {0u, 1u, 10u}) {
      const Bytes inner = Build(Kind::kTcp, inner_options, 40, rng);
      const uint32_t inner_ihl = Ihl(inner);
      const uint32_t outer_ihl = 20 + 4 * outer_options;
      // The quote needs the inner header and 8 bytes after it.
      for (uint32_t quote = 20; quote <= inner.size(); ++quote) {
        Bytes b = IcmpError(11, 0, outer_options, inner, quote, rng);
        rte_ipv4_hdr* q = nullptr;
        uint32_t qa = 0;
        const bool ok = icmp_error_quote(Ip(b), static_cast<uint32_t>(b.size()), q, qa);
        EXPECT_EQ(ok, quote >= inner_ihl + 8) << "outer options " << outer_options << " inner ihl "
                                              << inner_ihl << " quote " << quote;
        if (ok) {
          EXPECT_EQ(reinterpret_cast<uint8_t*>(q), b.data() + outer_ihl + 8);
          EXPECT_EQ(qa, quote);
        }
        // `avail` is what counts, not the buffer: one byte short of the minimum refuses.
        if (quote == inner_ihl + 8) {
          EXPECT_FALSE(icmp_error_quote(Ip(b), static_cast<uint32_t>(b.size()) - 1, q, qa));
        }
      }
      // Shorter than an IPv4 header: never.
      for (uint32_t quote = 0; quote < 20; ++quote) {
        Bytes b = IcmpError(3, 1, outer_options, inner, quote, rng);
        rte_ipv4_hdr* q = nullptr;
        uint32_t qa = 0;
        EXPECT_FALSE(icmp_error_quote(Ip(b), static_cast<uint32_t>(b.size()), q, qa)) << quote;
      }
    }
  }
}

TEST(IcmpErrorQuote, RefusesBadInnerHeadersFragmentsAndOtherProtocols) {
  Rng rng(71);
  const Bytes inner = Build(Kind::kUdp, 0, 20, rng);
  rte_ipv4_hdr* q = nullptr;
  uint32_t qa = 0;
  Bytes b = IcmpError(3, 3, 0, inner, static_cast<uint32_t>(inner.size()), rng);
  ASSERT_TRUE(icmp_error_quote(Ip(b), static_cast<uint32_t>(b.size()), q, qa));
  // Inner version 6, inner IHL below 5.
  for (uint8_t vihl : {0x65, 0x44, 0x40, 0x41, 0x55}) {
    Bytes c = b;
    c[28] = vihl;
    EXPECT_FALSE(icmp_error_quote(Ip(c), static_cast<uint32_t>(c.size()), q, qa)) << int{vihl};
  }
  // The error itself a non-first fragment.
  Bytes frag = b;
  Put16(frag.data() + 6, 0x00B9);
  EXPECT_FALSE(icmp_error_quote(Ip(frag), static_cast<uint32_t>(frag.size()), q, qa));
  // Not ICMP.
  for (uint8_t proto : {kProtoTcp, kProtoUdp, uint8_t{47}}) {
    Bytes c = b;
    c[9] = proto;
    EXPECT_FALSE(icmp_error_quote(Ip(c), static_cast<uint32_t>(c.size()), q, qa)) << int{proto};
  }
}

// --- nat_rewrite_quoted ----------------------------------------------------------------------

// The quoted packet rewritten, then its and the outer ICMP checksum recomputed from scratch. The
// inner L4 checksum is recomputed over the whole original packet: right wherever the quote
// contains it.
Bytes ExpectQuoted(const Bytes& error, const Bytes& inner, uint32_t quote, NatSide side,
                   uint32_t addr, bool set_port, uint16_t port) {
  Bytes in = inner;
  ApplyNat(in, 0, side, addr, set_port, port);
  Bytes out = error;
  const uint32_t ihl = Ihl(out);
  std::memcpy(out.data() + ihl + 8, in.data(), quote);
  FixChecksums(out);
  return out;
}

TEST(NatRewriteQuoted, RandomErrorsMatchFromScratchChecksums) {
  Rng rng(73);
  const uint8_t types[] = {3, 11, 12};
  int tcp_csum_quoted = 0, tcp_csum_not_quoted = 0;
  for (int i = 0; i < 3000; ++i) {
    const Kind kind = kKinds[rng.Below(5)];
    const Bytes inner = Build(kind, rng.Coin() ? 0 : 1 + rng.Below(4), rng.Below(60), rng);
    const uint32_t inner_ihl = Ihl(inner);
    // The quote: the RFC 792 minimum, a full packet, or anything between (TCP: not the odd
    // length that splits its checksum).
    uint32_t quote;
    switch (rng.Below(3)) {
      case 0:
        quote = inner_ihl + 8;
        break;
      case 1:
        quote = static_cast<uint32_t>(inner.size());
        break;
      default:
        quote = inner_ihl + 8 + rng.Below(static_cast<uint32_t>(inner.size()) - inner_ihl - 7);
        break;
    }
    if (kind == Kind::kTcp && quote == inner_ihl + 17) quote = inner_ihl + 18;
    if (kind == Kind::kTcp) ++(quote >= inner_ihl + 18 ? tcp_csum_quoted : tcp_csum_not_quoted);
    Bytes err = IcmpError(types[rng.Below(3)], static_cast<uint8_t>(rng.Below(16)),
                          rng.Coin() ? 0 : 1 + rng.Below(3), inner, quote, rng);
    const NatSide side = rng.Coin() ? NatSide::kSource : NatSide::kDestination;
    const uint32_t addr = rng.U32();
    const bool set_port = rng.Coin();
    const uint16_t port = rng.U16();
    const Bytes want = ExpectQuoted(err, inner, quote, side, addr, set_port, port);
    nat_rewrite_quoted(Ip(err), static_cast<uint32_t>(err.size()), side, addr, set_port, port);
    ASSERT_EQ(Hex(err), Hex(want))
        << "iteration " << i << " " << KindName(kind) << " quote " << quote << " side "
        << (side == NatSide::kSource ? "src" : "dst") << " set_port " << set_port;
  }
  EXPECT_GT(tcp_csum_quoted, 50);
  EXPECT_GT(tcp_csum_not_quoted, 50);
}

// The case an inbound SNAT reply error takes: a router on the way answers a VM's TCP SYN (sent
// from the SNAT address and port) with "port unreachable"; the quoted source goes back to the
// VM's address and port, and the outer destination too.
TEST(NatRewriteQuoted, TcpWithAndWithoutItsChecksumQuoted) {
  Rng rng(79);
  for (uint32_t quote_extra : {8u, 20u}) {  // 8: checksum not quoted; 20: the whole TCP header
    Bytes inner = Build(Kind::kTcp, 0, 0, rng);
    const uint32_t ihl = Ihl(inner);
    inner[ihl + 12] = 0x50;  // no TCP options: 20-byte header
    inner.resize(ihl + 20);
    Put16(inner.data() + 2, static_cast<uint16_t>(inner.size()));
    Put32(inner.data() + 12, 0xCB007107);  // SNAT address
    Put32(inner.data() + 16, 0xC6336401);
    Put16(inner.data() + ihl, 40001);
    Put16(inner.data() + ihl + 2, 80);
    FixChecksums(inner);
    const uint32_t quote = ihl + quote_extra;
    Bytes err = IcmpError(3, 3, 0, inner, quote, rng);
    Put32(err.data() + 16, 0xCB007107);
    FixChecksums(err);
    const uint16_t inner_tcp_csum_before = Get16(inner.data() + ihl + 16);

    nat_rewrite(Ip(err), static_cast<uint32_t>(err.size()), NatSide::kDestination, 0x0A000005,
                false, 0);
    nat_rewrite_quoted(Ip(err), static_cast<uint32_t>(err.size()), NatSide::kSource, 0x0A000005,
                       true, 33000);

    Bytes in = inner;
    ApplyNat(in, 0, NatSide::kSource, 0x0A000005, true, 33000);
    const uint8_t* q = err.data() + 28;
    EXPECT_EQ(Get32(q + 12), 0x0A000005u);
    EXPECT_EQ(Get16(q + ihl), 33000);
    EXPECT_EQ(Get16(q + ihl + 2), 80);
    EXPECT_EQ(Get16(q + 10), Get16(in.data() + 10));  // inner header checksum
    if (quote_extra == 20) {
      EXPECT_EQ(Get16(q + ihl + 16), Get16(in.data() + ihl + 16));
      EXPECT_NE(Get16(q + ihl + 16), inner_tcp_csum_before);
    }
    EXPECT_EQ(Get32(err.data() + 16), 0x0A000005u);
    EXPECT_EQ(Get16(err.data() + 10), RefIpChecksum(err));
    EXPECT_EQ(Get16(err.data() + 22), RefIcmpChecksum(err.data() + 20, quote + 8))
        << "quote " << quote;
  }
}

TEST(NatRewriteQuoted, UdpAndIcmpEchoQuotedWhole) {
  Rng rng(83);
  for (Kind kind : {Kind::kUdp, Kind::kUdpNoChecksum, Kind::kEchoRequest, Kind::kEchoReply}) {
    for (NatSide side : {NatSide::kSource, NatSide::kDestination}) {
      const Bytes inner = Build(kind, 0, 24, rng);
      const uint32_t quote = static_cast<uint32_t>(inner.size());
      Bytes err = IcmpError(11, 0, 0, inner, quote, rng);
      const Bytes want = ExpectQuoted(err, inner, quote, side, 0x0A00002A, true, 0x2222);
      nat_rewrite_quoted(Ip(err), static_cast<uint32_t>(err.size()), side, 0x0A00002A, true,
                         0x2222);
      EXPECT_EQ(Hex(err), Hex(want)) << KindName(kind);
      const uint8_t* q = err.data() + 28;
      const uint32_t ihl = Ihl(inner);
      if (kind == Kind::kUdpNoChecksum) {
        EXPECT_EQ(Get16(q + ihl + 6), 0);
      }
      if (kind == Kind::kUdp) {
        EXPECT_EQ(
            Get16(q + ihl + 6),
            RefL4Checksum(q, q + ihl, static_cast<uint32_t>(inner.size()) - ihl, kProtoUdp, 6));
      }
      if (kind == Kind::kEchoRequest || kind == Kind::kEchoReply) {
        EXPECT_EQ(Get16(q + ihl + 4), 0x2222);
        EXPECT_EQ(Get16(q + ihl + 2),
                  RefIcmpChecksum(q + ihl, static_cast<uint32_t>(inner.size()) - ihl));
      }
    }
  }
}

// Whatever the quote length (even one that splits the quoted TCP checksum), the outer ICMP
// checksum and the quoted IP header checksum stay right for the bytes actually there.
TEST(NatRewriteQuoted, OuterChecksumRightForEveryQuoteLength) {
  Rng rng(89);
  for (Kind kind : kKinds) {
    const Bytes inner = Build(kind, 1, 30, rng);
    const uint32_t ihl = Ihl(inner);
    for (uint32_t quote = ihl + 8; quote <= inner.size(); ++quote) {
      Bytes err = IcmpError(3, 4, 0, inner, quote, rng);
      nat_rewrite_quoted(Ip(err), static_cast<uint32_t>(err.size()), NatSide::kDestination,
                         0xAC100001, true, 0x0101);
      const std::string where = std::string(KindName(kind)) + " quote " + std::to_string(quote);
      EXPECT_EQ(Get16(err.data() + 22), RefIcmpChecksum(err.data() + 20, 8 + quote)) << where;
      Bytes q(err.begin() + 28, err.end());
      EXPECT_EQ(Get16(q.data() + 10), RefIpChecksum(q)) << where;
      EXPECT_EQ(Get32(q.data() + 16), 0xAC100001u) << where;
    }
  }
}

TEST(NatRewriteQuoted, NotAnErrorIsLeftAlone) {
  Rng rng(97);
  for (Kind kind : kKinds) {
    Bytes b = Build(kind, 0, 40, rng);
    const Bytes before = b;
    nat_rewrite_quoted(Ip(b), static_cast<uint32_t>(b.size()), NatSide::kSource, 0x01010101, true,
                       9);
    EXPECT_EQ(Hex(b), Hex(before)) << KindName(kind);
  }
  // An error whose quote is too short: untouched too.
  const Bytes inner = Build(Kind::kUdp, 0, 20, rng);
  Bytes err = IcmpError(3, 1, 0, inner, 27, rng);
  const Bytes before = err;
  nat_rewrite_quoted(Ip(err), static_cast<uint32_t>(err.size()), NatSide::kSource, 0x01010101, true,
                     9);
  EXPECT_EQ(Hex(err), Hex(before));
}

}  // namespace
}  // namespace dvr::dp
