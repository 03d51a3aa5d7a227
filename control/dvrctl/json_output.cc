#include "json_output.h"

#include <google/protobuf/util/json_util.h>

#include <stdexcept>
#include <string>

namespace dvrctl {

void print_json(const google::protobuf::Message& msg, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  opts.add_whitespace = true;
  std::string text;
  const auto status = google::protobuf::util::MessageToJsonString(msg, &text, opts);
  if (!status.ok()) {
    throw std::runtime_error("cannot print the response as JSON: " + status.ToString());
  }
  out << text;
  if (text.empty() || text.back() != '\n') out << '\n';
}

}  // namespace dvrctl
