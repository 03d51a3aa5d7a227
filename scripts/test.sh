#!/usr/bin/env bash
# The full test suite, as CI runs it (README: "bash scripts/test.sh", as root).
#   1. installs missing dependencies (scripts/install-deps.sh);
#   2. checks formatting with the repo's .clang-format;
#   3. builds with warnings as errors and runs every suite (unit, pipeline, e2e);
#   4. builds again with ASan+UBSan and runs every suite there, leak checking on.
# Ends with one line "N passed, N failed, N skipped" over both builds; exit status 0 only if nothing failed.
# Options: --quick skips the sanitizer build; SUITES="unit pipeline" limits the suites.
set -uo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
suites=${SUITES:-unit pipeline e2e}

bash scripts/install-deps.sh || exit 1

echo "==> clang-format check"
mapfile -t sources < <(git ls-files '*.cc' '*.h' 2>/dev/null || find dataplane control lib tests -name '*.cc' -o -name '*.h')
if ! clang-format --dry-run -Werror "${sources[@]}" 2>/tmp/dvr-format.$$; then
  head -20 /tmp/dvr-format.$$
  rm -f /tmp/dvr-format.$$
  echo "clang-format: files need formatting (run clang-format -i on them)"
  echo "0 passed, 1 failed"
  exit 1
fi
rm -f /tmp/dvr-format.$$

passed=0
failed=0
skipped=0

run_build() {  # name, meson options...
  local dir=$1
  shift
  echo "==> configure $dir ($*)"
  if [ -d "$dir" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
  else
    meson setup "$dir" "$@" >/dev/null || return 1
  fi
  echo "==> build $dir"
  ninja -C "$dir" || return 1
  local suite_args=()
  for s in $suites; do suite_args+=(--suite "$s"); done
  echo "==> test $dir (suites: $suites)"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "${suite_args[@]}"
  local rc=$?
  # Count results from meson's machine-readable log.
  local counts
  counts=$(python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        bad += 1
print(ok, bad, skip)
PY
)
  read -r ok bad skip <<<"$counts"
  passed=$((passed + ok))
  failed=$((failed + bad))
  skipped=$((skipped + skip))
  return $rc
}

status=0
run_build build-ci -Dwerror=true --buildtype=debugoptimized || status=1
if [ $quick -eq 0 ]; then
  # detect_leaks: the suite must pass without a leak report.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_build build-asan -Dwerror=true --buildtype=debug -Db_sanitize=address,undefined \
    -Db_lundef=false || status=1
fi

[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1  # a build failure is a failure too
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $status
