// The conntrack table dump of the control API (dvrctl conntrack show), with its filters.
#pragma once

#include "dataplane.h"
#include "dvr.pb.h"

namespace dvr {

api::v1::Response conntrack_dump(const dp::Dataplane& dp, const api::v1::ConntrackRequest& req);

}  // namespace dvr
