// gtest main for pipeline tests: one EAL per process, without hugepages or PCI, with three
// lcores on the first CPU (main + two workers) so that multi-worker paths run on any machine.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <string>
#include <vector>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "--file-prefix=dvr_pipeline_" + std::to_string(::getpid());
  std::vector<std::string> args = {"pipeline_test", "--no-huge", "-m",
                                   "256",           "--no-pci",  "--lcores",
                                   "0@0,1@0,2@0",   prefix,      "--log-level=lib.eal:warning",
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
