#!/usr/bin/env bash
# Apache (mod_proxy_fcgi) in front of eas-fcgi on 127.0.0.1, for the smoke test.
#
#   apache.sh start <base-dir> <fastcgi-address> [port]
#   apache.sh stop  <base-dir>
#
# <fastcgi-address>: 127.0.0.1:port (TCP) or unix:/path. Writes
# <base-dir>/apache.conf (the locations come from
# deploy/apache/eas-fcgi-locations.conf), starts apache2 under setsid with
# pid file, logs and runtime folder under <base-dir>, and writes
# <base-dir>/env: APACHE_PID, APACHE_PIDFILE, APACHE_PORT, APACHE_LOG,
# APACHE_URL=http://127.0.0.1:<port>.
# Apache refuses to serve as root, so when run as root its children run as
# www-data (the parent stays root to bind and write the logs); with a unix
# socket, that user must be able to connect to it: use TCP then.
# stop: `apache2 -k stop` with our config, then the pid file; never a name.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "apache.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: apache.sh start <base-dir> <fastcgi-address> [port] | stop <base-dir>"
cmd=$1
base=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$base"
base=$(cd "$base" && pwd)
conf=$base/apache.conf
pidfile=$base/apache.pid
APACHE=${APACHE:-/usr/sbin/apache2}
MODS=${APACHE_MODULES:-/usr/lib/apache2/modules}



stop() {
  if pid_alive; then
    local pid
    pid=$(cat "$pidfile")
    "$APACHE" -d "$base" -f "$conf" -k stop 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    running "$pid" && kill -KILL "$pid" 2>/dev/null || true
    echo "apache.sh: stopped (pid $pid)"
  else
    echo "apache.sh: not running in $base"
  fi
  rm -f "$pidfile"
}

start() {
  local upstream=${1:?fastcgi address} want_port=${2:-}
  [ -x "$APACHE" ] || die "apache2 not installed (deploy/install-deps.sh)"
  pid_alive && stop >/dev/null
  local backend
  case $upstream in
    unix:/*) backend="${upstream}|fcgi://localhost" ;;
    /*) backend="unix:${upstream}|fcgi://localhost" ;;
    127.*:[0-9]*) backend="fcgi://$upstream" ;;
    *) die "fastcgi address must be 127.0.0.1:port or unix:/path" ;;
  esac
  mkdir -p "$base/run"
  rm -f "$base/env"
  local run_as=""
  if [ "$(id -u)" -eq 0 ]; then
    id www-data >/dev/null 2>&1 || die "user www-data missing"
    run_as=$'User www-data\nGroup www-data'
    chown www-data "$base/run"
  fi
  local attempt port
  for attempt in 1 2 3; do
    port=${want_port:-$(free_port)} || die "no free port"
    cat >"$conf" <<CONF
# Written by deploy/local/apache.sh; regenerated on every start.
ServerRoot "$base"
ServerName localhost
Listen 127.0.0.1:$port
PidFile $pidfile
DefaultRuntimeDir $base/run
ErrorLog $base/error.log
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %b %D" timed
CustomLog $base/access.log timed
$run_as
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_fcgi_module $MODS/mod_proxy_fcgi.so
ServerTokens Prod
Define EAS_FCGI_BACKEND "$backend"
Include $top/deploy/apache/eas-fcgi-locations.conf
<Location />
    Require all granted
</Location>
CONF
    "$APACHE" -d "$base" -f "$conf" -t >/dev/null 2>"$base/configtest.out" || {
      cat "$base/configtest.out" >&2
      die "apache2 -t failed for $conf"
    }
    setsid "$APACHE" -d "$base" -f "$conf" -k start </dev/null >>"$base/apache.out" 2>&1 || true
    local ok=0
    for _ in $(seq 1 50); do
      if pid_alive && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ok=1; break; fi
      sleep 0.1
    done
    if [ $ok -eq 1 ]; then
      {
        echo "APACHE_PID=$(cat "$pidfile")"
        echo "APACHE_PIDFILE=$pidfile"
        echo "APACHE_PORT=$port"
        echo "APACHE_LOG=$base/error.log"
        echo "APACHE_URL=http://127.0.0.1:$port"
      } >"$base/env"
      echo "apache.sh: running (pid $(cat "$pidfile")) on http://127.0.0.1:$port -> $backend"
      return 0
    fi
    stop >/dev/null || true
    [ -n "$want_port" ] && break
    echo "apache.sh: attempt $attempt on port $port failed" >&2
  done
  tail -n 20 "$base/error.log" >&2 || true
  die "apache2 did not come up (log: $base/error.log)"
}

case $cmd in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
