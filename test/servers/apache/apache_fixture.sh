#!/usr/bin/env bash
# The apache test fixture: a private eas-fcgi on a loopback TCP port (auth
# against the dovecot fixture) with Apache 2.4 + mod_proxy_fcgi in front.
#
#   apache_fixture.sh start <run-dir> <dovecot-env> <eas-fcgi-binary>
#   apache_fixture.sh stop  <run-dir>
#
# Writes <run-dir>/env: APACHE_URL, APACHE_PID, APACHE_PIDFILE, APACHE_LOG,
# EAS_FCGI_PIDFILE, EAS_FCGI_LOG, ... and the EAS_TEST_USER<n>/PASS<n> lines
# of the Dovecot env. TCP rather than a unix socket: Apache's children run
# as www-data when started as root (see deploy/local/apache.sh).
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/../../../deploy/local/lib.sh"
die() { echo "apache_fixture.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: apache_fixture.sh start <run-dir> <dovecot-env> <eas-fcgi> | stop <run-dir>"
cmd=$1
run=$2
top=$(cd "$(dirname "$0")/../../.." && pwd)
mkdir -p "$run"
run=$(cd "$run" && pwd)

stop() {
  "$top/deploy/local/apache.sh" stop "$run/apache" || true
  "$top/deploy/local/eas-fcgi.sh" stop "$run/eas-fcgi" || true
  rm -f "$run/env"
}

start() {
  local dovecot_env=${1:?dovecot env} bin=${2:?eas-fcgi binary}
  [ -r "$dovecot_env" ] || die "no Dovecot env at $dovecot_env (the dovecot fixture must run first)"
  local imap_host imap_port fcgi_port
  imap_host=$(sed -n 's/^IMAP_HOST=//p' "$dovecot_env")
  imap_port=$(sed -n 's/^IMAP_PORT=//p' "$dovecot_env")
  stop >/dev/null 2>&1 || true
  fcgi_port=$(free_port) || die "no free port"
  EAS_FCGI_BIN=$bin "$top/deploy/local/eas-fcgi.sh" start "$run/eas-fcgi" \
    server.socket="127.0.0.1:$fcgi_port" server.workers=1 server.threads=4 \
    auth.imap_host="$imap_host" auth.imap_port="$imap_port" \
    store.url="sqlite:$run/eas-fcgi/eas.db"
  "$top/deploy/local/apache.sh" start "$run/apache" "127.0.0.1:$fcgi_port" || {
    "$top/deploy/local/eas-fcgi.sh" stop "$run/eas-fcgi"
    die "apache did not start"
  }
  {
    echo "# written by test/servers/apache/apache_fixture.sh"
    cat "$run/apache/env" "$run/eas-fcgi/env"
    grep -E '^(EAS_TEST_USER[0-9]+|EAS_TEST_PASS[0-9]+(_HEX)?)=' "$dovecot_env" || true
  } >"$run/env.tmp"
  mv "$run/env.tmp" "$run/env"
  echo "apache_fixture.sh: up; env in $run/env"
}

case $cmd in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
