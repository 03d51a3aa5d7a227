#include "session.h"

#include <utility>

#include "errors.h"

namespace dvrctl {

namespace v1 = dvr::api::v1;

Session::Session(GlobalOptions options, std::ostream& out)
    : options_(std::move(options)), out_(out) {}

Session::~Session() = default;

const v1::HelloResponse& Session::hello() {
  if (client_ == nullptr) {
    auto client = std::make_unique<dvr::Client>(options_.socket_path, options_.timeout);
    hello_ = client->hello("dvrctl");
    client_ = std::move(client);
  }
  return hello_;
}

v1::Response Session::call(v1::Request req) {
  hello();
  v1::Response resp = client_->call(std::move(req));
  if (resp.status() != v1::STATUS_OK) throw RequestFailed(resp.status(), resp.message());
  return resp;
}

}  // namespace dvrctl
