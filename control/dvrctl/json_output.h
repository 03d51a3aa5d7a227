// --json output: a response message in the proto3 JSON mapping.
#pragma once

#include <google/protobuf/message.h>

#include <ostream>

namespace dvrctl {

// Prints `msg` with the proto field names, every field (defaults included), indented, and a
// final newline. Throws std::runtime_error if the message cannot be converted.
void print_json(const google::protobuf::Message& msg, std::ostream& out);

}  // namespace dvrctl
