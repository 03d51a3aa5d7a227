#include "frame.h"

#include <stdexcept>

namespace dvr {

void append_frame(std::string& out, std::string_view payload) {
  if (payload.size() > UINT32_MAX) throw std::length_error("frame payload larger than 4 GiB");
  const auto len = static_cast<uint32_t>(payload.size());
  const char header[kFrameHeaderBytes] = {
      static_cast<char>(kFrameMagic0),       static_cast<char>(kFrameMagic1),
      static_cast<char>(kFrameVersion),      0,
      static_cast<char>((len >> 24) & 0xff), static_cast<char>((len >> 16) & 0xff),
      static_cast<char>((len >> 8) & 0xff),  static_cast<char>(len & 0xff),
  };
  out.append(header, sizeof(header));
  out.append(payload);
}

std::string encode_frame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  append_frame(out, payload);
  return out;
}

const char* frame_error_name(FrameError e) {
  switch (e) {
    case FrameError::kNone:
      return "none";
    case FrameError::kBadMagic:
      return "bad frame magic (not a dvrd control frame)";
    case FrameError::kBadVersion:
      return "unsupported frame version";
    case FrameError::kBadFlags:
      return "reserved frame flags set";
    case FrameError::kOversized:
      return "frame length exceeds the limit";
  }
  return "unknown";
}

void FrameDecoder::feed(const void* data, size_t len) {
  if (error_ != FrameError::kNone) return;
  // Compact before growing so a long-lived connection does not keep consumed bytes around.
  if (start_ > 0 && start_ == buf_.size()) {
    buf_.clear();
    start_ = 0;
  } else if (start_ > 4096 && start_ * 2 > buf_.size()) {
    buf_.erase(0, start_);
    start_ = 0;
  }
  buf_.append(static_cast<const char*>(data), len);
}

bool FrameDecoder::check_header() {
  const auto* h = reinterpret_cast<const uint8_t*>(buf_.data() + start_);
  const size_t avail = buf_.size() - start_;
  // Judge the magic as soon as its bytes arrive, so garbage is rejected without waiting for 8.
  if ((avail >= 1 && h[0] != kFrameMagic0) || (avail >= 2 && h[1] != kFrameMagic1)) {
    error_ = FrameError::kBadMagic;
  } else if (avail >= 3 && h[2] != kFrameVersion) {
    error_ = FrameError::kBadVersion;
  } else if (avail >= 4 && h[3] != 0) {
    error_ = FrameError::kBadFlags;
  }
  return error_ == FrameError::kNone;
}

std::optional<std::string> FrameDecoder::next() {
  if (error_ != FrameError::kNone || !check_header()) return std::nullopt;
  const size_t avail = buf_.size() - start_;
  if (avail < kFrameHeaderBytes) return std::nullopt;
  const auto* h = reinterpret_cast<const uint8_t*>(buf_.data() + start_);
  const uint32_t len =
      (uint32_t{h[4]} << 24) | (uint32_t{h[5]} << 16) | (uint32_t{h[6]} << 8) | uint32_t{h[7]};
  if (len > max_payload_) {
    error_ = FrameError::kOversized;
    return std::nullopt;
  }
  if (avail < kFrameHeaderBytes + len) return std::nullopt;
  std::string payload = buf_.substr(start_ + kFrameHeaderBytes, len);
  start_ += kFrameHeaderBytes + len;
  return payload;
}

}  // namespace dvr
