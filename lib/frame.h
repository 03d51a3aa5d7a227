// Length-prefixed framing for the control socket.
//
// Every message travels as one frame: an 8-byte header followed by a serialized protobuf
// (dvr.api.v1.Request from client to dvrd, dvr.api.v1.Response back).
//
//   offset 0  u8  magic 'D'
//   offset 1  u8  magic 'V'
//   offset 2  u8  frame version (kFrameVersion)
//   offset 3  u8  flags (must be 0)
//   offset 4  u32 payload length, big endian, at most the decoder's limit
//
// The magic and version let either side reject a peer speaking something else before it trusts
// a length; the limit keeps a hostile length from making dvrd allocate gigabytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dvr {

inline constexpr uint8_t kFrameMagic0 = 'D';
inline constexpr uint8_t kFrameMagic1 = 'V';
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 8;
inline constexpr uint32_t kDefaultMaxFrameBytes = 16u << 20;

// Appends header + payload to `out`.
void append_frame(std::string& out, std::string_view payload);
std::string encode_frame(std::string_view payload);

enum class FrameError {
  kNone,
  kBadMagic,    // the first two bytes are not "DV": not our protocol
  kBadVersion,  // a frame version this build does not speak
  kBadFlags,    // reserved flag bits set
  kOversized,   // the announced length exceeds the limit
};

const char* frame_error_name(FrameError e);

// Incremental decoder for a byte stream. Feed it whatever read() returned; pull complete frames.
// After an error the stream cannot be resynchronised and the decoder stays failed.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_payload = kDefaultMaxFrameBytes) : max_payload_(max_payload) {}

  void feed(const void* data, size_t len);

  // The next complete payload, or nullopt when more bytes are needed or the stream failed.
  std::optional<std::string> next();

  FrameError error() const { return error_; }
  // Bytes received that do not yet form a complete frame (a peer that hangs up with this
  // non-zero disconnected mid-frame).
  size_t pending_bytes() const { return buf_.size() - start_; }

 private:
  bool check_header();

  uint32_t max_payload_;
  std::string buf_;
  size_t start_ = 0;
  FrameError error_ = FrameError::kNone;
};

}  // namespace dvr
