// A blocking client for dvrd's control socket, used by dvrctl and the tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "dvr.pb.h"
#include "frame.h"

namespace dvr {

// Errors of the channel itself (connect, I/O, framing); the daemon's own verdicts arrive as
// Response.status instead.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Client {
 public:
  // Connects to the Unix socket at `path`. Throws ClientError with a readable reason.
  explicit Client(const std::string& path,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Performs the version handshake; throws ClientError if dvrd refuses it.
  api::v1::HelloResponse hello(const std::string& client_name);

  // Sends `req` (its id is assigned here) and waits for the response with the same id.
  api::v1::Response call(api::v1::Request req);

  // Raw access for protocol tests.
  void send_bytes(const std::string& bytes);
  api::v1::Response read_response();
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  uint64_t next_id_ = 1;
  FrameDecoder decoder_;
};

// The default control socket: $DVRD_SOCKET if set, else kDefaultSocketPath.
inline constexpr const char* kDefaultSocketPath = "/run/dvrd/dvrd.sock";
std::string default_socket_path();

const char* status_name(api::v1::Status s);

}  // namespace dvr
