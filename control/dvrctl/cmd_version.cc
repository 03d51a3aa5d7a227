#include "cmd_version.h"

#include "args.h"
#include "dvrctl_version.h"
#include "format.h"
#include "json_output.h"
#include "session.h"

namespace dvrctl {

int run_version(Session& session, const Invocation& inv) {
  parse_args(inv, {}, {}, 0);
  const auto& hello = session.hello();
  std::ostream& out = session.out();
  if (session.json()) {
    print_json(hello, out);
    return 0;
  }
  const auto text = [](const std::string& s) { return s.empty() ? "-" : printable(s); };
  out << "dvrd version:      " << text(hello.dvrd_version()) << "\n"
      << "API version:       " << static_cast<int>(hello.api_version()) << "\n"
      << "host id:           " << text(hello.host().host_id()) << "\n"
      << "workers:           " << hello.worker_count() << "\n"
      << "development mode:  " << yes_no(hello.development_mode()) << "\n"
      << "dvrctl version:    " << DVRCTL_VERSION << "\n";
  return 0;
}

}  // namespace dvrctl
