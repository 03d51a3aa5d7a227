// gtest main for the tests that need a real EAL: one EAL per process, without hugepages or PCI,
// with its own --file-prefix, whose runtime directory under /var/run/dpdk is removed at the end
// (--in-memory would avoid it, but DPDK refuses it together with --no-huge). The lcores all sit
// on CPU 0;
// DVR_TEST_LCORES (e.g. "0@0,1@0,2@0": main + two workers) and DVR_TEST_MEMORY_MB come from
// the test's meson.build.
#include <gtest/gtest.h>
#include <rte_eal.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#ifndef DVR_TEST_LCORES
#error "define DVR_TEST_LCORES"
#endif
#ifndef DVR_TEST_MEMORY_MB
#error "define DVR_TEST_MEMORY_MB"
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::string prefix = "dvr_test_" + std::to_string(::getpid());
  std::vector<std::string> args = {"dvr_test",
                                   "--no-huge",
                                   "-m",
                                   std::to_string(DVR_TEST_MEMORY_MB),
                                   "--no-pci",
                                   "--file-prefix=" + prefix,
                                   "--lcores",
                                   DVR_TEST_LCORES,
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
  std::error_code ignored;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ignored);
  return rc;
}
