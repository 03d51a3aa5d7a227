// gtest main for the route table tests: one EAL per process, without hugepages or PCI. The large
// routers' DIR-24-8 tables (64 MiB each) come from EAL memory, hence -m 768.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=dvr_route_table_" + std::to_string(::getpid());
  std::vector<std::string> args = {"route_table_test",
                                   "--no-huge",
                                   "-m",
                                   "768",
                                   "--no-pci",
                                   "--lcores",
                                   "0@0",
                                   prefix,
                                   "--log-level=lib.eal:warning",
                                   "--no-telemetry"};
  std::vector<char*> argv_eal;
  for (auto& a : args) argv_eal.push_back(a.data());
  if (rte_eal_init(static_cast<int>(argv_eal.size()), argv_eal.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return rc;
}
