// The control socket: a Unix stream socket served from the control thread with epoll. Each
// client sends framed dvr.api.v1.Request messages and gets one framed Response per request.
//
// A client that breaks the framing (bad magic, bad version, oversized length, garbage) gets one
// PROTOCOL_ERROR response and is disconnected, because its stream cannot be resynchronised. A
// well-framed but undecodable or unknown request only gets an error response. Either way the other
// clients and all of dvrd's state are untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "dvr.pb.h"
#include "frame.h"

namespace dvr {

struct ClientInfo {
  uint64_t id = 0;
  bool hello_done = false;
  std::string name;  // from the hello
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Handles a decoded request after the handshake; must fill status (and message on error).
  virtual api::v1::Response handle(const api::v1::Request& req, ClientInfo& client) = 0;
  virtual api::v1::HelloResponse hello_response() = 0;
};

struct ServerLimits {
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t max_clients = 64;
  size_t max_pending_output = 64u << 20;  // a client that stops reading is dropped past this
};

struct ServerCounters {
  uint64_t accepted = 0, requests = 0, protocol_errors = 0, dropped_clients = 0;
};

class ControlServer {
 public:
  ControlServer(std::string path, RequestHandler& handler, ServerLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Fails (throws std::runtime_error) when another live process answers on the path. A stale
  // socket file from a dead dvrd is replaced.
  static void check_not_in_use(const std::string& path);
  void open();
  // Watches an extra fd (e.g. a signalfd); `on_ready` runs when it is readable.
  void watch(int fd, std::function<void()> on_ready);
  // Waits up to timeout_ms for events and handles them.
  void poll_once(int timeout_ms);
  // Closes every client and the listener, and removes the socket file.
  void close();

  size_t client_count() const { return clients_.size(); }
  const ServerCounters& counters() const { return counters_; }

 private:
  struct Client {
    int fd = -1;
    ClientInfo info;
    FrameDecoder decoder;
    std::string out;
    bool close_after_flush = false;
    explicit Client(uint32_t max_frame) : decoder(max_frame) {}
  };

  void accept_clients();
  void on_readable(Client& c);
  void handle_frame(Client& c, const std::string& payload);
  void send(Client& c, const api::v1::Response& resp);
  void flush(Client& c);
  void drop(int fd, const char* why);
  void update_interest(Client& c);

  std::string path_;
  RequestHandler& handler_;
  ServerLimits limits_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  uint64_t next_client_id_ = 1;
  std::map<int, Client> clients_;
  std::map<int, std::function<void()>> watched_;
  ServerCounters counters_;
};

}  // namespace dvr
