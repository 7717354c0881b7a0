#!/usr/bin/env bash
# HTTP benchmark through nginx -> eas-fcgi (eas_stack fixture) with wrk on
# loopback: requests per second and latency percentiles for
#   options  OPTIONS /Microsoft-Server-ActiveSync with Basic auth (served
#            from the Authenticator's credential cache after the first one)
#   noop     an authenticated POST FolderSync (SyncKey 0, 14.1) - the cheapest
#            command path through the HTTP layer and dispatcher
#
#   http_bench.sh <eas_stack env> <options|noop> [seconds] [connections]
#
# Prints one summary line "bench http_<name>: <req/s> req/s, p50 .. p99 .."
# and fails only if wrk fails, reports socket errors, or (options) any reply
# is not 2xx. The target (>= 5,000 OPTIONS/s on 2 cores) is printed, not
# enforced: the machine may be shared.
set -euo pipefail
env_file=${1:?eas_stack env}
name=${2:?options|noop}
seconds=${3:-4}
conns=${4:-32}
[ -r "$env_file" ] || { echo "http_bench: no env at $env_file (eas_stack fixture not running)"; exit 1; }
command -v wrk >/dev/null || { echo "http_bench: wrk not installed"; exit 1; }
url=$(sed -n 's/^EAS_URL=//p' "$env_file")
user=$(sed -n 's/^EAS_TEST_USER1=//p' "$env_file")
pass=$(sed -n 's/^EAS_TEST_PASS1=//p' "$env_file")
[ -n "$url" ] && [ -n "$user" ] && [ -n "$pass" ] || { echo "http_bench: EAS_URL/EAS_TEST_USER1/EAS_TEST_PASS1 missing"; exit 1; }
auth="Basic $(printf '%s:%s' "$user" "$pass" | base64 -w0)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case $name in
  options)
    cat >"$work/req.lua" <<LUA
wrk.method = "OPTIONS"
wrk.path = "/Microsoft-Server-ActiveSync"
wrk.headers["Authorization"] = "$auth"
LUA
    path=""
    ;;
  noop)
    cat >"$work/req.lua" <<LUA
wrk.method = "POST"
wrk.path = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=bench&DeviceId=BENCH0001&DeviceType=Bench"
wrk.headers["Authorization"] = "$auth"
wrk.headers["MS-ASProtocolVersion"] = "14.1"
wrk.headers["X-MS-PolicyKey"] = "0"
wrk.headers["Content-Type"] = "application/vnd.ms-sync.wbxml"
wrk.headers["User-Agent"] = "eas-bench/1.0"
-- <FolderSync><SyncKey>0</SyncKey></FolderSync> (FolderHierarchy, code page 7)
wrk.body = "\3\1\106\0\0\7\86\82\3\48\0\1\1"
LUA
    ;;
  *) echo "http_bench: unknown benchmark $name"; exit 1 ;;
esac

# Warm the credential cache of every worker, and show one reply.
curl -s -o /dev/null -w "http_bench: warm-up OPTIONS reply: HTTP %{http_code}\n" -X OPTIONS -H "Authorization: $auth" \
  "$url/Microsoft-Server-ActiveSync" || true
wrk -t2 -c"$conns" -d1s -s "$work/req.lua" "$url" >/dev/null 2>&1 || true

wrk -t2 -c"$conns" -d"${seconds}s" --latency -s "$work/req.lua" "$url" >"$work/out" 2>&1 || {
  cat "$work/out"
  echo "http_bench: wrk failed"
  exit 1
}
cat "$work/out"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/out")
pct() { awk -v p="$1" '$1 == p {print $2}' "$work/out"; }
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$work/out")
sockerr=$(grep -c 'Socket errors' "$work/out" || true)
echo "bench http_$name: ${rps} req/s, p50 $(pct 50%) p90 $(pct 90%) p99 $(pct 99%)," \
     "${conns} connections, ${seconds} s, non-2xx ${non2xx:-0}, cores $(nproc)"
if [ "$name" = options ]; then
  awk -v r="$rps" 'BEGIN { if (r + 0 >= 5000) print "bench http_options: target >= 5000 req/s met"; else print "bench http_options: BELOW the 5000 req/s target" }'
fi
[ "$sockerr" -eq 0 ] || { echo "http_bench: socket errors"; exit 1; }
if [ "$name" = options ] && [ -n "${non2xx:-}" ]; then
  echo "http_bench: $non2xx OPTIONS replies were not 2xx"
  exit 1
fi
exit 0
