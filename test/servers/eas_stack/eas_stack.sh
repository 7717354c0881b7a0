#!/usr/bin/env bash
# The eas_stack test fixture: eas-fcgi (pointing at the fixture Dovecot)
# behind nginx on 127.0.0.1.
#
#   eas_stack.sh start <run-dir> <dovecot-env> <eas-fcgi-binary> [<postfix-env> [section.key=value ...]]
#   eas_stack.sh stop  <run-dir>
#
# Writes <run-dir>/env (one KEY=VALUE a line, safe to `source`):
#   EAS_URL=http://127.0.0.1:<port>      nginx in front of eas-fcgi
#   EAS_FCGI_PIDFILE, EAS_FCGI_PID, EAS_FCGI_LOG, EAS_FCGI_CONFIG, EAS_FCGI_SOCKET
#   NGINX_PID, NGINX_PIDFILE, NGINX_LOG
#   EAS_AUTH_MAX_FAILURES, EAS_AUTH_FAILURE_WINDOW_SECONDS, EAS_AUTH_LOCKOUT_SECONDS,
#   EAS_AUTH_CACHE_TTL_SECONDS    the throttling limits eas-fcgi runs with
#   IMAP_HOST, IMAP_PORT and the EAS_TEST_USER<n>/EAS_TEST_PASS<n>[_HEX]
#   lines copied from the Dovecot env.
#   NOTIFYD_UDP_HOST, NOTIFYD_UDP_PORT, NOTIFYD_SOCKET, NOTIFYD_SECRET_FILE,
#   NOTIFYD_PIDFILE, NOTIFYD_PID, NOTIFYD_LOG  copied from the env of the
#   eas-notifyd the Dovecot sends change events to (its NOTIFYD_ENV), when it
#   does; eas-fcgi's [push] notify_socket is then that notifyd's relay socket.
#   SMTP_HOST, SMTP_PORT, SMTP_MESSAGE_SIZE_LIMIT, POSTFIX_LOG  copied from the
#   Postfix env when one is given ([smtp] of eas-fcgi points at that Postfix).
# Throttling is per user and per client address; every test connects from
# loopback, so a test that locks an address out should connect from an
# address of its own in 127.0.0.0/8 (e.g. curl --interface 127.0.0.23) so
# that it does not lock out the tests that run after it.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/../../../deploy/local/lib.sh"
die() { echo "eas_stack.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: eas_stack.sh start <run-dir> <dovecot-env> <eas-fcgi> | stop <run-dir>"
cmd=$1
run=$2
top=$(cd "$(dirname "$0")/../../.." && pwd)
mkdir -p "$run"
run=$(cd "$run" && pwd)

max_failures=4
window=30
lockout=5
cache_ttl=60

stop() {
  "$top/deploy/local/nginx.sh" stop "$run/nginx" || true
  "$top/deploy/local/eas-fcgi.sh" stop "$run/eas-fcgi" || true
  rm -f "$run/env"
}

start() {
  local dovecot_env=${1:?dovecot env} bin=${2:?eas-fcgi binary} postfix_env=${3:-}
  local overrides=("${@:4}")  # eas-fcgi.sh section.key=value, after ours (they win)
  [ -r "$dovecot_env" ] || die "no Dovecot env at $dovecot_env (the dovecot fixture must run first)"
  local imap_host imap_port
  imap_host=$(sed -n 's/^IMAP_HOST=//p' "$dovecot_env")
  imap_port=$(sed -n 's/^IMAP_PORT=//p' "$dovecot_env")
  [ -n "$imap_port" ] || die "IMAP_PORT missing in $dovecot_env"
  # The eas-notifyd the stack's Dovecot sends change events to, if any.
  local notifyd_env notify_socket=""
  notifyd_env=$(sed -n 's/^NOTIFYD_ENV=//p' "$dovecot_env")
  if [ -n "$notifyd_env" ] && [ -r "$notifyd_env" ]; then
    notify_socket=$(sed -n 's/^NOTIFYD_SOCKET=//p' "$notifyd_env")
  fi
  local smtp_args=()
  if [ -n "$postfix_env" ]; then
    [ -r "$postfix_env" ] || die "no Postfix env at $postfix_env (the postfix fixture must run first)"
    smtp_args=(smtp.host="$(sed -n 's/^SMTP_HOST=//p' "$postfix_env")"
               smtp.port="$(sed -n 's/^SMTP_PORT=//p' "$postfix_env")" smtp.tls=none
               smtp.timeout_seconds=10)
  fi
  stop >/dev/null 2>&1 || true
  local port
  port=$(free_port) || die "no free port"
  EAS_FCGI_BIN=$bin "$top/deploy/local/eas-fcgi.sh" start "$run/eas-fcgi" \
    server.workers=2 server.threads=8 server.drain_timeout_seconds=10 \
    auth.imap_host="$imap_host" auth.imap_port="$imap_port" auth.imap_tls=none \
    auth.default_domain=example.test \
    auth.max_failures=$max_failures auth.failure_window_seconds=$window \
    auth.lockout_seconds=$lockout auth.cache_ttl_seconds=$cache_ttl \
    autodiscover.mobilesync_url="http://127.0.0.1:$port/Microsoft-Server-ActiveSync" \
    autodiscover.domains=example.test \
    "autodiscover.protocol.imap=IMAP $imap_host $imap_port %u off" \
    store.url="sqlite:$run/eas-fcgi/eas.db" \
    push.notify_socket="$notify_socket" \
    push.min_heartbeat_seconds=2 "${smtp_args[@]}" "${overrides[@]}"
  local sock
  sock=$(sed -n 's/^EAS_FCGI_SOCKET=//p' "$run/eas-fcgi/env")
  "$top/deploy/local/nginx.sh" start "$run/nginx" "unix:$sock" "$port" || {
    "$top/deploy/local/eas-fcgi.sh" stop "$run/eas-fcgi"
    die "nginx did not start"
  }
  {
    echo "# written by test/servers/eas_stack/eas_stack.sh"
    cat "$run/nginx/env" "$run/eas-fcgi/env"
    echo "EAS_AUTH_MAX_FAILURES=$max_failures"
    echo "EAS_AUTH_FAILURE_WINDOW_SECONDS=$window"
    echo "EAS_AUTH_LOCKOUT_SECONDS=$lockout"
    echo "EAS_AUTH_CACHE_TTL_SECONDS=$cache_ttl"
    grep -E '^(IMAP_HOST|IMAP_PORT|EAS_TEST_USER[0-9]+|EAS_TEST_PASS[0-9]+(_HEX)?)=' "$dovecot_env" || true
    [ -z "$notify_socket" ] || grep -E '^NOTIFYD_' "$notifyd_env" || true
    [ -z "$postfix_env" ] || grep -E '^(SMTP_HOST|SMTP_PORT|SMTP_MESSAGE_SIZE_LIMIT|POSTFIX_LOG)=' "$postfix_env" || true
  } >"$run/env.tmp"
  mv "$run/env.tmp" "$run/env"
  echo "eas_stack.sh: up; env in $run/env"
  grep -E '^(EAS_URL|EAS_FCGI_LOG)=' "$run/env"
}

case $cmd in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
