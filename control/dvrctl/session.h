// One conversation with dvrd: connects and says hello on first use, then sends requests.
#pragma once

#include <memory>
#include <ostream>

#include "client.h"
#include "dvr.pb.h"
#include "global_options.h"

namespace dvrctl {

class Session {
 public:
  Session(GlobalOptions options, std::ostream& out);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const GlobalOptions& options() const { return options_; }
  bool json() const { return options_.json; }
  std::ostream& out() { return out_; }

  // Connects and performs the API version handshake, once. Throws dvr::ClientError.
  const dvr::api::v1::HelloResponse& hello();

  // Sends `req` (after hello) and returns the response. Throws RequestFailed when dvrd
  // answers with a status other than STATUS_OK, dvr::ClientError when the channel fails.
  dvr::api::v1::Response call(dvr::api::v1::Request req);

 private:
  GlobalOptions options_;
  std::ostream& out_;
  std::unique_ptr<dvr::Client> client_;
  dvr::api::v1::HelloResponse hello_;
};

}  // namespace dvrctl
