#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#  1. install every package (deploy/install-deps.sh),
#  2. build with -Werror and run every ctest (unit, integration against real
#     servers that the ctest fixtures start, benchmarks that print figures),
#  3. build the unit suite with clang + AddressSanitizer/UBSan and run it,
#     then the libFuzzer targets for a bounded time.
# Prints the ctest summary of each stage; exits non-zero if any stage fails.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

"$top/deploy/install-deps.sh" || { echo "run-tests: install-deps failed"; exit 1; }

rc=0
stage() { echo; echo "=== $*"; }

# The test servers run their unprivileged parts as other users (Dovecot's
# auth as "dovecot", mail as "mail", Apache as www-data), and their state
# lives in the build folder. A checkout those users cannot reach (under
# /root, mode 0700, as on a fresh machine or in CI) gets its build folders
# in a reachable place instead; nothing else about the run changes.
reachable() {
  local d=$1
  while [ "$d" != "/" ]; do
    [ -n "$(find "$d" -maxdepth 0 -perm -o+x 2>/dev/null)" ] || return 1
    d=$(dirname "$d")
  done
}
build_root=$top
if ! reachable "$top"; then
  build_root=/var/tmp/eas-fcgi-tests-$(printf '%s' "$top" | sha1sum | cut -c1-12)
  mkdir -p "$build_root" && chmod 0755 "$build_root"
  echo "run-tests: $top is not reachable by the test servers' users; building in $build_root"
fi

stage "build (gcc, -Werror)"
cmake -S . -B "$build_root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEAS_WERROR=ON >build-configure.log 2>&1 \
  || { cat build-configure.log; exit 1; }
cmake --build "$build_root/build" -j"$jobs" 2>&1 | tail -n 40
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "run-tests: build failed"; exit 1; }

stage "tests: unit, integration, benchmarks"
(cd "$build_root/build" && ctest --output-on-failure -j"$jobs" --timeout 900) || rc=1

stage "build (clang, AddressSanitizer + UBSan, libFuzzer)"
CC=clang CXX=clang++ cmake -S . -B "$build_root/build-asan" -DCMAKE_BUILD_TYPE=Debug \
  -DEAS_SANITIZE=ON -DEAS_FUZZ=ON -DEAS_BENCH=OFF -DEAS_WERROR=ON >build-asan-configure.log 2>&1 \
  || { cat build-asan-configure.log; exit 1; }
cmake --build "$build_root/build-asan" -j"$jobs" 2>&1 | tail -n 40
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "run-tests: sanitizer build failed"; exit 1; }

stage "tests under sanitizers: unit suite and bounded fuzz runs"
(cd "$build_root/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j"$jobs" -L 'unit|fuzz' --timeout 900) || rc=1

echo
[ $rc -eq 0 ] && echo "run-tests: all stages passed" || echo "run-tests: FAILED"
exit $rc
