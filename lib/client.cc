#include "client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace dvr {

namespace v1 = api::v1;

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void wait_ready(int fd, short events, std::chrono::milliseconds timeout, const char* what) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (n > 0) return;
    if (n == 0) throw ClientError(std::string("timed out waiting for dvrd to ") + what);
    if (errno != EINTR) throw ClientError(errno_text("poll"));
  }
}

}  // namespace

std::string default_socket_path() {
  const char* env = std::getenv("DVRD_SOCKET");
  return (env != nullptr && *env != '\0') ? env : kDefaultSocketPath;
}

const char* status_name(v1::Status s) {
  switch (s) {
    case v1::STATUS_OK:
      return "ok";
    case v1::STATUS_INVALID_ARGUMENT:
      return "invalid argument";
    case v1::STATUS_NOT_FOUND:
      return "not found";
    case v1::STATUS_ALREADY_EXISTS:
      return "already exists";
    case v1::STATUS_CONFLICT:
      return "conflict";
    case v1::STATUS_RESOURCE_EXHAUSTED:
      return "resource exhausted";
    case v1::STATUS_UNIMPLEMENTED:
      return "unimplemented";
    case v1::STATUS_INTERNAL:
      return "internal error";
    case v1::STATUS_VERSION_MISMATCH:
      return "version mismatch";
    case v1::STATUS_PROTOCOL_ERROR:
      return "protocol error";
    case v1::STATUS_FAILED_PRECONDITION:
      return "failed precondition";
    default:
      return "unknown status";
  }
}

Client::Client(const std::string& path, std::chrono::milliseconds timeout) : timeout_(timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    throw ClientError("socket path too long (max " + std::to_string(sizeof(addr.sun_path) - 1) +
                      " bytes): " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw ClientError(errno_text("socket"));
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    const std::string msg = errno_text("cannot connect to dvrd at " + path);
    ::close(fd_);
    fd_ = -1;
    throw ClientError(msg);
  }
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

void Client::send_bytes(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    wait_ready(fd_, POLLOUT, timeout_, "accept the request");
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw ClientError(errno_text("send to dvrd"));
    }
    off += static_cast<size_t>(n);
  }
}

v1::Response Client::read_response() {
  for (;;) {
    if (auto payload = decoder_.next()) {
      v1::Response resp;
      if (!resp.ParseFromString(*payload)) throw ClientError("dvrd sent an undecodable response");
      return resp;
    }
    if (decoder_.error() != FrameError::kNone) {
      throw ClientError(std::string("bad frame from dvrd: ") + frame_error_name(decoder_.error()));
    }
    wait_ready(fd_, POLLIN, timeout_, "answer");
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) throw ClientError("dvrd closed the connection");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw ClientError(errno_text("recv from dvrd"));
    }
    decoder_.feed(buf, static_cast<size_t>(n));
  }
}

v1::Response Client::call(v1::Request req) {
  req.set_id(next_id_++);
  std::string payload;
  if (!req.SerializeToString(&payload)) throw ClientError("cannot serialize request");
  send_bytes(encode_frame(payload));
  for (;;) {
    v1::Response resp = read_response();
    // Responses come back in order; one with another id answers an earlier, abandoned request.
    if (resp.id() == req.id() || resp.id() == 0) return resp;
  }
}

v1::HelloResponse Client::hello(const std::string& client_name) {
  v1::Request req;
  req.mutable_hello()->set_api_version(v1::API_VERSION_1);
  req.mutable_hello()->set_client_name(client_name);
  v1::Response resp = call(std::move(req));
  if (resp.status() != v1::STATUS_OK) {
    throw ClientError("dvrd refused the handshake (" + std::string(status_name(resp.status())) +
                      "): " + resp.message());
  }
  return resp.hello();
}

}  // namespace dvr
