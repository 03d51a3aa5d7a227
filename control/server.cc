#include "server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace dvr {

namespace v1 = api::v1;

namespace {

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

sockaddr_un make_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error("control socket path is longer than " +
                             std::to_string(sizeof(addr.sun_path) - 1) + " bytes: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

v1::Response error_response(uint64_t id, v1::Status status, std::string message) {
  v1::Response r;
  r.set_id(id);
  r.set_status(status);
  r.set_message(std::move(message));
  return r;
}

}  // namespace

ControlServer::ControlServer(std::string path, RequestHandler& handler, ServerLimits limits)
    : path_(std::move(path)), handler_(handler), limits_(limits) {}

ControlServer::~ControlServer() {
  close();
}

void ControlServer::check_not_in_use(const std::string& path) {
  const sockaddr_un addr = make_address(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sys_error("socket");
  const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  if (live) {
    throw std::runtime_error("control socket " + path +
                             " is in use by a running dvrd (stop it, or pick another --socket)");
  }
}

void ControlServer::open() {
  const sockaddr_un addr = make_address(path_);
  check_not_in_use(path_);
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw std::runtime_error("cannot create " + parent.string() + ": " + ec.message());
  }
  // Nobody answered: a socket file there belongs to a dvrd that is gone. Anything else at the
  // path is somebody's file, and a mistyped --socket must not destroy it.
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error("control socket path " + path_ +
                               " exists and is not a socket; refusing to replace it");
    }
    if (::unlink(path_.c_str()) != 0)
      throw sys_error("cannot remove stale control socket " + path_);
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw sys_error("socket");
  if (::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    throw sys_error("cannot bind control socket " + path_);
  }
  // Only root and the socket's group may configure the router.
  ::chmod(path_.c_str(), 0660);
  if (::listen(listen_fd_, 64) != 0) throw sys_error("listen on " + path_);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw sys_error("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) throw sys_error("epoll_ctl");
}

void ControlServer::watch(int fd, std::function<void()> on_ready) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) throw sys_error("epoll_ctl");
  watched_[fd] = std::move(on_ready);
}

void ControlServer::close() {
  while (!clients_.empty()) drop(clients_.begin()->first, nullptr);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  epoll_fd_ = -1;
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
  listen_fd_ = -1;
}

void ControlServer::poll_once(int timeout_ms) {
  epoll_event events[32];
  const int n = ::epoll_wait(epoll_fd_, events, 32, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return;
    throw sys_error("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == listen_fd_) {
      accept_clients();
      continue;
    }
    if (auto w = watched_.find(fd); w != watched_.end()) {
      w->second();
      continue;
    }
    auto it = clients_.find(fd);
    if (it == clients_.end()) continue;  // dropped earlier in this batch
    Client& c = it->second;
    if (events[i].events & EPOLLOUT) flush(c);
    if (!clients_.contains(fd)) continue;
    if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
  }
}

void ControlServer::accept_clients() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        std::fprintf(stderr, "dvrd: accept on control socket: %s\n", std::strerror(errno));
      }
      return;
    }
    auto [it, inserted] = clients_.try_emplace(fd, limits_.max_frame_bytes);
    Client& c = it->second;
    c.fd = fd;
    c.info.id = next_client_id_++;
    ++counters_.accepted;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    if (clients_.size() > limits_.max_clients) {
      send(c, error_response(
                  0, v1::STATUS_RESOURCE_EXHAUSTED,
                  "too many control clients (limit " + std::to_string(limits_.max_clients) + ")"));
      c.close_after_flush = true;
      flush(c);
    }
  }
}

void ControlServer::on_readable(Client& c) {
  const int fd = c.fd;  // `c` dies if the client is dropped; the fd number tells us
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n == 0) {
      drop(c.fd, c.decoder.pending_bytes() > 0 ? "disconnected mid-frame" : nullptr);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      drop(c.fd, "read error");
      return;
    }
    if (c.close_after_flush) continue;  // already condemned: discard the rest
    c.decoder.feed(buf, static_cast<size_t>(n));
    while (auto payload = c.decoder.next()) {
      handle_frame(c, *payload);
      if (!clients_.contains(fd)) return;
    }
    if (c.decoder.error() != FrameError::kNone) {
      ++counters_.protocol_errors;
      send(c, error_response(
                  0, v1::STATUS_PROTOCOL_ERROR,
                  std::string("closing connection: ") + frame_error_name(c.decoder.error())));
      c.close_after_flush = true;
      flush(c);
      return;
    }
  }
}

void ControlServer::handle_frame(Client& c, const std::string& payload) {
  ++counters_.requests;
  v1::Request req;
  if (!req.ParseFromString(payload)) {
    ++counters_.protocol_errors;
    send(c, error_response(0, v1::STATUS_PROTOCOL_ERROR,
                           "malformed request: the frame does not hold a dvr.api.v1.Request"));
    return;
  }
  if (req.body_case() == v1::Request::BODY_NOT_SET) {
    send(c, error_response(req.id(), v1::STATUS_UNIMPLEMENTED,
                           "unknown request type: this dvrd speaks API version 1"));
    return;
  }
  if (req.has_hello()) {
    if (req.hello().api_version() != v1::API_VERSION_1) {
      send(c, error_response(req.id(), v1::STATUS_VERSION_MISMATCH,
                             "dvrd speaks API version 1; the client asked for version " +
                                 std::to_string(req.hello().api_version())));
      return;
    }
    c.info.hello_done = true;
    c.info.name = req.hello().client_name();
    v1::Response r;
    r.set_id(req.id());
    r.set_status(v1::STATUS_OK);
    *r.mutable_hello() = handler_.hello_response();
    send(c, r);
    return;
  }
  if (!c.info.hello_done) {
    send(c, error_response(req.id(), v1::STATUS_FAILED_PRECONDITION,
                           "send a hello with the API version first"));
    return;
  }
  v1::Response resp;
  try {
    resp = handler_.handle(req, c.info);
  } catch (const std::exception& e) {
    resp = error_response(req.id(), v1::STATUS_INTERNAL, e.what());
  }
  resp.set_id(req.id());
  send(c, resp);
}

void ControlServer::send(Client& c, const v1::Response& resp) {
  std::string payload;
  resp.SerializeToString(&payload);
  append_frame(c.out, payload);
  if (c.out.size() > limits_.max_pending_output) {
    drop(c.fd, "not reading its responses");
    return;
  }
  flush(c);
}

void ControlServer::flush(Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      drop(c.fd, "write error");
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
  if (c.out.empty() && c.close_after_flush) {
    drop(c.fd, "protocol error");
    return;
  }
  update_interest(c);
}

void ControlServer::update_interest(Client& c) {
  epoll_event ev{};
  ev.events = EPOLLIN | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  ev.data.fd = c.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ControlServer::drop(int fd, const char* why) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  if (why != nullptr) {
    ++counters_.dropped_clients;
    std::fprintf(stderr, "dvrd: control client %llu (%s) dropped: %s\n",
                 static_cast<unsigned long long>(it->second.info.id),
                 it->second.info.name.empty() ? "no hello" : it->second.info.name.c_str(), why);
  }
  if (epoll_fd_ >= 0) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  clients_.erase(it);
}

}  // namespace dvr
