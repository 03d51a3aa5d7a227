// dvrctl: the command-line client of dvrd. See cli.h; `dvrctl --help` for the commands.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "errors.h"

int main(int argc, char** argv) {
  int rc = dvrctl::kExitFailure;
  try {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    rc = dvrctl::run_cli(args, std::cout, std::cerr);
    if (!std::cout.flush() && rc == dvrctl::kExitOk) {
      std::cerr << "dvrctl: cannot write the output\n";
      rc = dvrctl::kExitFailure;
    }
  } catch (...) {
    std::fputs("dvrctl: unexpected error\n", stderr);
    rc = dvrctl::kExitFailure;
  }
  return rc;
}
