// Control-socket framing (lib/frame.h) and the protobuf decoding the server does on a payload.

#include "frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "dvr.pb.h"

namespace dvr {
namespace {

using api::v1::Request;
using api::v1::Response;

std::string header(uint8_t m0, uint8_t m1, uint8_t version, uint8_t flags, uint32_t len) {
  std::string h;
  h.push_back(static_cast<char>(m0));
  h.push_back(static_cast<char>(m1));
  h.push_back(static_cast<char>(version));
  h.push_back(static_cast<char>(flags));
  h.push_back(static_cast<char>((len >> 24) & 0xff));
  h.push_back(static_cast<char>((len >> 16) & 0xff));
  h.push_back(static_cast<char>((len >> 8) & 0xff));
  h.push_back(static_cast<char>(len & 0xff));
  return h;
}

std::string good_header(uint32_t len) {
  return header(kFrameMagic0, kFrameMagic1, kFrameVersion, 0, len);
}

void feed(FrameDecoder& d, std::string_view bytes) {
  d.feed(bytes.data(), bytes.size());
}

// Pulls every complete frame the decoder currently holds.
std::vector<std::string> drain(FrameDecoder& d) {
  std::vector<std::string> out;
  while (auto p = d.next()) out.push_back(std::move(*p));
  return out;
}

// Payloads with binary content, including NUL and 0xff, and one that looks like a header.
std::vector<std::string> sample_payloads() {
  return {
      "hello", std::string("\0\x01\xff\x7f", 4), "", good_header(3) + "abc", std::string(300, 'x'),
  };
}

std::string stream_of(const std::vector<std::string>& payloads) {
  std::string s;
  for (const auto& p : payloads) append_frame(s, p);
  return s;
}

// --- encoding ------------------------------------------------------------------------------

TEST(FrameEncode, HeaderLayoutIsMagicVersionFlagsBigEndianLength) {
  const std::string f = encode_frame("abc");
  EXPECT_EQ(f, std::string("DV\x01\x00\x00\x00\x00\x03"
                           "abc",
                           11));
}

TEST(FrameEncode, LengthIsBigEndianInAllFourBytes) {
  const uint32_t len = 0x010203;  // 66051 bytes: exercises three of the four length bytes
  const std::string f = encode_frame(std::string(len, 'z'));
  ASSERT_EQ(f.size(), kFrameHeaderBytes + len);
  EXPECT_EQ(static_cast<uint8_t>(f[4]), 0x00);
  EXPECT_EQ(static_cast<uint8_t>(f[5]), 0x01);
  EXPECT_EQ(static_cast<uint8_t>(f[6]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(f[7]), 0x03);
}

TEST(FrameEncode, AppendFrameAppendsToExistingBytes) {
  std::string out = "prefix";
  append_frame(out, "p1");
  append_frame(out, "");
  EXPECT_EQ(out, "prefix" + encode_frame("p1") + encode_frame(""));
}

// --- round trips ---------------------------------------------------------------------------

TEST(FrameDecoder, RoundTripOneFrame) {
  FrameDecoder d;
  feed(d, encode_frame("payload"));
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, "payload");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kNone);
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(FrameDecoder, RoundTripManyFramesInOneFeed) {
  std::vector<std::string> payloads;
  for (size_t i = 0; i < 200; ++i)
    payloads.push_back(std::string(i, static_cast<char>('a' + i % 26)));
  FrameDecoder d;
  feed(d, stream_of(payloads));
  EXPECT_EQ(drain(d), payloads);
  EXPECT_EQ(d.error(), FrameError::kNone);
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(FrameDecoder, ZeroLengthPayload) {
  const std::string f = encode_frame("");
  EXPECT_EQ(f.size(), kFrameHeaderBytes);
  FrameDecoder d;
  feed(d, f);
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->empty());
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kNone);
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(FrameDecoder, SeveralZeroLengthFramesInARow) {
  FrameDecoder d;
  feed(d, encode_frame("") + encode_frame("") + encode_frame("x") + encode_frame(""));
  EXPECT_EQ(drain(d), (std::vector<std::string>{"", "", "x", ""}));
  EXPECT_EQ(d.error(), FrameError::kNone);
}

TEST(FrameDecoder, NothingFedYieldsNothing) {
  FrameDecoder d;
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kNone);
  EXPECT_EQ(d.pending_bytes(), 0u);
  feed(d, "");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kNone);
}

// --- arbitrary feed() boundaries -----------------------------------------------------------

TEST(FrameDecoder, ThreeFramesSplitAtEverySinglePoint) {
  const std::vector<std::string> payloads = {"first", "", std::string("th\0rd", 5)};
  const std::string s = stream_of(payloads);
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    FrameDecoder d;
    feed(d, std::string_view(s).substr(0, cut));
    std::vector<std::string> got = drain(d);
    feed(d, std::string_view(s).substr(cut));
    for (auto& p : drain(d)) got.push_back(std::move(p));
    EXPECT_EQ(got, payloads);
    EXPECT_EQ(d.error(), FrameError::kNone);
    EXPECT_EQ(d.pending_bytes(), 0u);
  }
}

TEST(FrameDecoder, ThreeFramesSplitAtEveryPairOfPoints) {
  const std::vector<std::string> payloads = {"ab", "cde", ""};
  const std::string s = stream_of(payloads);
  for (size_t a = 0; a <= s.size(); ++a) {
    for (size_t b = a; b <= s.size(); ++b) {
      SCOPED_TRACE("cuts at " + std::to_string(a) + "," + std::to_string(b));
      FrameDecoder d;
      std::vector<std::string> got;
      for (auto part : {std::string_view(s).substr(0, a), std::string_view(s).substr(a, b - a),
                        std::string_view(s).substr(b)}) {
        feed(d, part);
        for (auto& p : drain(d)) got.push_back(std::move(p));
      }
      ASSERT_EQ(got, payloads);
      ASSERT_EQ(d.pending_bytes(), 0u);
    }
  }
}

TEST(FrameDecoder, ByteByByteFramesAppearExactlyWhenComplete) {
  const std::vector<std::string> payloads = sample_payloads();
  const std::string s = stream_of(payloads);
  // Offsets at which each frame's last byte arrives.
  std::vector<size_t> ends;
  size_t off = 0;
  for (const auto& p : payloads) {
    off += kFrameHeaderBytes + p.size();
    ends.push_back(off);
  }
  FrameDecoder d;
  std::vector<std::string> got;
  size_t frame_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    feed(d, std::string_view(s).substr(i, 1));
    auto p = d.next();
    const bool completes = got.size() < ends.size() && i + 1 == ends[got.size()];
    ASSERT_EQ(p.has_value(), completes) << "after byte " << i;
    if (p) {
      got.push_back(std::move(*p));
      frame_start = i + 1;
    }
    ASSERT_EQ(d.pending_bytes(), i + 1 - frame_start) << "after byte " << i;
    ASSERT_FALSE(d.next().has_value());
  }
  EXPECT_EQ(got, payloads);
  EXPECT_EQ(d.error(), FrameError::kNone);
}

TEST(FrameDecoder, LongStreamInOddChunksSurvivesBufferCompaction) {
  // Enough traffic that the decoder's consumed-prefix compaction (past 4 KiB) runs many times,
  // with frames straddling the chunk boundaries.
  std::vector<std::string> payloads;
  for (size_t i = 0; i < 500; ++i) {
    std::string p(i % 97 * 7, '\0');
    for (size_t j = 0; j < p.size(); ++j) p[j] = static_cast<char>((i * 31 + j) & 0xff);
    payloads.push_back(std::move(p));
  }
  const std::string s = stream_of(payloads);
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1000}, size_t{4097}, size_t{65536}}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    FrameDecoder d;
    std::vector<std::string> got;
    for (size_t i = 0; i < s.size(); i += chunk) {
      feed(d, std::string_view(s).substr(i, chunk));
      for (auto& p : drain(d)) got.push_back(std::move(p));
    }
    EXPECT_EQ(got, payloads);
    EXPECT_EQ(d.pending_bytes(), 0u);
    EXPECT_EQ(d.error(), FrameError::kNone);
  }
}

// --- limit ---------------------------------------------------------------------------------

TEST(FrameDecoder, DefaultLimitIs16MiB) {
  EXPECT_EQ(kDefaultMaxFrameBytes, 16u * 1024 * 1024);
}

TEST(FrameDecoder, PayloadExactlyAtLimitIsAccepted) {
  FrameDecoder d(64);
  const std::string payload(64, 'L');
  feed(d, encode_frame(payload));
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, payload);
  EXPECT_EQ(d.error(), FrameError::kNone);
}

TEST(FrameDecoder, LimitPlusOneIsRejectedFromTheHeaderAlone) {
  FrameDecoder d(64);
  feed(d, good_header(65));  // no payload bytes at all
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kOversized);
}

TEST(FrameDecoder, OversizedAfterGoodFramesStillDeliversTheGoodOnes) {
  FrameDecoder d(10);
  feed(d, encode_frame("ok") + good_header(11));
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, "ok");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kOversized);
}

TEST(FrameDecoder, HugeAnnouncedLengthIsRejectedWithDefaultLimit) {
  FrameDecoder d;
  feed(d, good_header(0xffffffffu));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kOversized);

  FrameDecoder d2;
  feed(d2, good_header(kDefaultMaxFrameBytes + 1));
  EXPECT_FALSE(d2.next().has_value());
  EXPECT_EQ(d2.error(), FrameError::kOversized);
}

TEST(FrameDecoder, DefaultLimitAnnouncedExactlyIsNotAnError) {
  FrameDecoder d;
  feed(d, good_header(kDefaultMaxFrameBytes) + "partial");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kNone);
  EXPECT_EQ(d.pending_bytes(), kFrameHeaderBytes + 7);
}

TEST(FrameDecoder, ZeroLimitAcceptsOnlyEmptyPayloads) {
  FrameDecoder d(0);
  feed(d, encode_frame(""));
  ASSERT_TRUE(d.next().has_value());
  feed(d, encode_frame("x"));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kOversized);
}

// --- header errors -------------------------------------------------------------------------

TEST(FrameDecoder, HttpRequestIsBadMagic) {
  FrameDecoder d;
  feed(d, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kBadMagic);
}

TEST(FrameDecoder, BadFirstByteIsRejectedWithoutWaitingForTheHeader) {
  FrameDecoder d;
  feed(d, "G");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kBadMagic);
}

TEST(FrameDecoder, BadSecondByteIsBadMagic) {
  FrameDecoder d;
  feed(d, "DX");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kBadMagic);
}

TEST(FrameDecoder, ValidPrefixIsNotAnErrorYet) {
  const std::string h = good_header(5);
  for (size_t n = 0; n < kFrameHeaderBytes; ++n) {
    FrameDecoder d;
    feed(d, std::string_view(h).substr(0, n));
    EXPECT_FALSE(d.next().has_value());
    EXPECT_EQ(d.error(), FrameError::kNone) << n << " header bytes";
    EXPECT_EQ(d.pending_bytes(), n);
  }
}

TEST(FrameDecoder, BadVersionIsRejected) {
  for (uint8_t v : {uint8_t{0}, uint8_t{2}, uint8_t{0xff}}) {
    FrameDecoder d;
    feed(d, header('D', 'V', v, 0, 3) + "abc");
    EXPECT_FALSE(d.next().has_value());
    EXPECT_EQ(d.error(), FrameError::kBadVersion) << "version " << int{v};
  }
  // Judged as soon as the version byte arrives.
  FrameDecoder d;
  feed(d, "DV\x02");
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kBadVersion);
}

TEST(FrameDecoder, BadFlagsAreRejected) {
  for (uint8_t f : {uint8_t{1}, uint8_t{0x80}, uint8_t{0xff}}) {
    FrameDecoder d;
    feed(d, header('D', 'V', kFrameVersion, f, 3) + "abc");
    EXPECT_FALSE(d.next().has_value());
    EXPECT_EQ(d.error(), FrameError::kBadFlags) << "flags " << int{f};
  }
}

TEST(FrameDecoder, StaysFailedAfterAnError) {
  FrameDecoder d;
  feed(d, "GET /");
  EXPECT_FALSE(d.next().has_value());
  ASSERT_EQ(d.error(), FrameError::kBadMagic);
  // A failed decoder ignores further input, so a peer that keeps sending cannot grow its buffer.
  const size_t pending = d.pending_bytes();
  feed(d, encode_frame("valid"));
  EXPECT_EQ(d.pending_bytes(), pending);
  EXPECT_FALSE(d.next().has_value());
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kBadMagic);
}

TEST(FrameDecoder, StaysFailedAfterOversized) {
  FrameDecoder d(4);
  feed(d, good_header(5) + "12345");
  EXPECT_FALSE(d.next().has_value());
  ASSERT_EQ(d.error(), FrameError::kOversized);
  feed(d, encode_frame("ok"));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kOversized);
}

TEST(FrameDecoder, GarbageAfterAGoodFrameFailsOnlyAfterItIsDelivered) {
  FrameDecoder d;
  feed(d, encode_frame("good") + "BAD!");
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, "good");
  EXPECT_EQ(d.error(), FrameError::kNone);
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kBadMagic);
}

TEST(FrameDecoder, ErrorNamesAreDistinctAndDescriptive) {
  EXPECT_STREQ(frame_error_name(FrameError::kNone), "none");
  const std::vector<FrameError> errors = {FrameError::kBadMagic, FrameError::kBadVersion,
                                          FrameError::kBadFlags, FrameError::kOversized};
  std::vector<std::string> names;
  for (FrameError e : errors) {
    const std::string n = frame_error_name(e);
    EXPECT_NE(n, "none");
    EXPECT_NE(n, "unknown");
    EXPECT_FALSE(n.empty());
    for (const auto& other : names) EXPECT_NE(n, other);
    names.push_back(n);
  }
}

// --- partial frames ------------------------------------------------------------------------

TEST(FrameDecoder, PendingBytesReportsAPartialFrame) {
  FrameDecoder d;
  const std::string f = encode_frame("0123456789");
  feed(d, std::string_view(f).substr(0, 13));  // header + 5 of 10 payload bytes
  EXPECT_FALSE(d.next().has_value());
  EXPECT_EQ(d.error(), FrameError::kNone);
  // A peer that hung up now disconnected mid-frame.
  EXPECT_EQ(d.pending_bytes(), 13u);
  feed(d, std::string_view(f).substr(13));
  EXPECT_EQ(d.pending_bytes(), f.size());
  ASSERT_TRUE(d.next().has_value());
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(FrameDecoder, PendingBytesCountsOnlyTheUnfinishedTail) {
  FrameDecoder d;
  feed(d, encode_frame("one") + encode_frame("two") + "DV\x01");
  EXPECT_EQ(drain(d), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(d.pending_bytes(), 3u);
  EXPECT_EQ(d.error(), FrameError::kNone);
}

// --- random streams ------------------------------------------------------------------------

// What a correct decoder must make of a whole stream: the complete frames before the first
// error, then either an error or the number of bytes of the unfinished frame.
struct Outcome {
  std::vector<std::string> frames;
  FrameError error = FrameError::kNone;
  size_t pending = 0;
};

Outcome reference_decode(std::string_view s, uint32_t max_payload) {
  Outcome o;
  size_t pos = 0;
  for (;;) {
    const std::string_view rest = s.substr(pos);
    auto byte = [&](size_t i) { return static_cast<uint8_t>(rest[i]); };
    if (rest.empty()) return o;
    if (byte(0) != 'D' || (rest.size() >= 2 && byte(1) != 'V')) {
      o.error = FrameError::kBadMagic;
    } else if (rest.size() >= 3 && byte(2) != kFrameVersion) {
      o.error = FrameError::kBadVersion;
    } else if (rest.size() >= 4 && byte(3) != 0) {
      o.error = FrameError::kBadFlags;
    }
    if (o.error != FrameError::kNone) return o;
    if (rest.size() < kFrameHeaderBytes) {
      o.pending = rest.size();
      return o;
    }
    const uint32_t len = (uint32_t{byte(4)} << 24) | (uint32_t{byte(5)} << 16) |
                         (uint32_t{byte(6)} << 8) | uint32_t{byte(7)};
    if (len > max_payload) {
      o.error = FrameError::kOversized;
      return o;
    }
    if (rest.size() < kFrameHeaderBytes + len) {
      o.pending = rest.size();
      return o;
    }
    o.frames.emplace_back(rest.substr(kFrameHeaderBytes, len));
    pos += kFrameHeaderBytes + len;
  }
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(byte(rng));
  return s;
}

// Feeds `s` in random-sized chunks, draining after each, and checks the result against the
// reference.
void check_stream(std::mt19937& rng, const std::string& s, uint32_t max_payload) {
  const Outcome want = reference_decode(s, max_payload);
  FrameDecoder d(max_payload);
  std::vector<std::string> got;
  std::uniform_int_distribution<size_t> chunk(0, 40);
  for (size_t pos = 0; pos < s.size();) {
    const size_t n = std::min(chunk(rng), s.size() - pos);
    feed(d, std::string_view(s).substr(pos, n));
    pos += n;
    for (auto& p : drain(d)) got.push_back(std::move(p));
  }
  for (auto& p : drain(d)) got.push_back(std::move(p));
  ASSERT_EQ(got, want.frames);
  ASSERT_EQ(d.error(), want.error);
  if (want.error == FrameError::kNone) {
    ASSERT_EQ(d.pending_bytes(), want.pending);
    ASSERT_FALSE(d.next().has_value());
  }
}

TEST(FrameDecoderRandom, GarbageNeverCrashesAndIsErrorOrIncomplete) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<size_t> len(0, 256);
  size_t errors = 0;
  for (size_t i = 0; i < 2000; ++i) {
    SCOPED_TRACE("buffer " + std::to_string(i));
    const std::string s = random_bytes(rng, len(rng));
    FrameDecoder d(1024);
    feed(d, s);
    const std::vector<std::string> frames = drain(d);
    const Outcome want = reference_decode(s, 1024);
    ASSERT_EQ(frames, want.frames);
    ASSERT_EQ(d.error(), want.error);
    if (d.error() == FrameError::kNone) {
      // Not an error: then all of it must be a (prefix of a) frame still waiting for bytes.
      ASSERT_EQ(d.pending_bytes(), want.pending);
    } else {
      ++errors;
    }
  }
  // Random bytes start with 'D' one time in 256: nearly every buffer must have been refused.
  EXPECT_GT(errors, 1900u);
}

TEST(FrameDecoderRandom, MixedValidTruncatedAndCorruptStreamsMatchTheReference) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_int_distribution<size_t> small(0, 40);
  std::uniform_int_distribution<size_t> header_byte(0, kFrameHeaderBytes - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t i = 0; i < 2000; ++i) {
    SCOPED_TRACE("stream " + std::to_string(i));
    std::string s;
    const size_t frames = small(rng) % 6;
    size_t last_start = 0;
    for (size_t f = 0; f < frames; ++f) {
      last_start = s.size();
      append_frame(s, random_bytes(rng, small(rng)));
    }
    switch (kind(rng)) {
      case 0:  // trailing garbage
        s += random_bytes(rng, small(rng));
        break;
      case 1:  // overwrite one header byte of the last frame, if any
        if (frames > 0) s[last_start + header_byte(rng)] = static_cast<char>(byte(rng));
        break;
      case 2:  // truncate anywhere
        s.resize(s.empty() ? 0 : small(rng) % (s.size() + 1));
        break;
      case 3:  // announce more than the limit
        s += good_header(static_cast<uint32_t>(33 + small(rng)));
        break;
      default:
        break;
    }
    check_stream(rng, s, 32);
  }
}

// --- payload decoding (what the server does with a frame's payload) ------------------------

TEST(FramePayload, RequestRoundTripsThroughAFrame) {
  Request req;
  req.set_id(42);
  req.mutable_hello()->set_client_name("dvrctl");
  req.mutable_hello()->set_api_version(api::v1::API_VERSION_1);

  FrameDecoder d;
  feed(d, encode_frame(req.SerializeAsString()));
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  Request got;
  ASSERT_TRUE(got.ParseFromString(*p));
  EXPECT_EQ(got.id(), 42u);
  ASSERT_EQ(got.body_case(), Request::kHello);
  EXPECT_EQ(got.hello().client_name(), "dvrctl");
  EXPECT_EQ(got.hello().api_version(), api::v1::API_VERSION_1);
}

// A well-framed payload that is not a protobuf Request: the server answers it as a malformed
// request (STATUS_PROTOCOL_ERROR with id 0), because ParseFromString fails.
TEST(FramePayload, NonProtobufPayloadFailsToParse) {
  FrameDecoder d;
  feed(d, encode_frame("\xff\xff\xff"));
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->size(), 3u);
  Request req;
  EXPECT_FALSE(req.ParseFromString(*p));
}

TEST(FramePayload, TruncatedRequestFailsToParse) {
  Request req;
  req.set_id(1);
  req.mutable_hello()->set_client_name("a client name long enough to truncate");
  const std::string full = req.SerializeAsString();
  Request got;
  EXPECT_FALSE(got.ParseFromString(full.substr(0, full.size() - 5)));
}

// A request kind this build does not know (a newer client) parses fine: the field is kept as an
// unknown field and the body oneof stays unset. That is how the server recognises an unknown
// message type and answers STATUS_UNIMPLEMENTED rather than failing to decode.
TEST(FramePayload, UnknownFieldParsesWithNoBody) {
  // Field 1 (id) = 7, then field 999 as a varint: tag (999 << 3 | 0) = 7992 = 0xb8 0x3e, value 1.
  const std::string bytes("\x08\x07\xb8\x3e\x01", 5);
  Request req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  EXPECT_EQ(req.id(), 7u);
  EXPECT_EQ(req.body_case(), Request::BODY_NOT_SET);
  // The unknown field survives re-serialisation.
  EXPECT_EQ(req.SerializeAsString(), bytes);
}

TEST(FramePayload, UnusedOneofNumberParsesWithNoBody) {
  // Field 15 (inside the body range but not assigned), length-delimited, empty.
  const std::string bytes("\x08\x09\x7a\x00", 4);
  Request req;
  ASSERT_TRUE(req.ParseFromString(bytes));
  EXPECT_EQ(req.id(), 9u);
  EXPECT_EQ(req.body_case(), Request::BODY_NOT_SET);
}

TEST(FramePayload, EmptyPayloadIsARequestWithNoBody) {
  Request req;
  ASSERT_TRUE(req.ParseFromString(""));
  EXPECT_EQ(req.id(), 0u);
  EXPECT_EQ(req.body_case(), Request::BODY_NOT_SET);
}

TEST(FramePayload, ResponseRoundTripsThroughAFrame) {
  Response resp;
  resp.set_id(0xfedcba9876543210ull);
  resp.set_status(api::v1::STATUS_NOT_FOUND);
  resp.set_message("port 'vm9' does not exist");

  FrameDecoder d;
  feed(d, encode_frame(resp.SerializeAsString()));
  auto p = d.next();
  ASSERT_TRUE(p.has_value());
  Response got;
  ASSERT_TRUE(got.ParseFromString(*p));
  EXPECT_EQ(got.id(), 0xfedcba9876543210ull);
  EXPECT_EQ(got.status(), api::v1::STATUS_NOT_FOUND);
  EXPECT_EQ(got.message(), "port 'vm9' does not exist");
  EXPECT_EQ(got.body_case(), Response::BODY_NOT_SET);
}

}  // namespace
}  // namespace dvr
