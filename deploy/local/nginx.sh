#!/usr/bin/env bash
# nginx in front of eas-fcgi on 127.0.0.1, for the tests and the quick-start.
#
#   nginx.sh start <base-dir> <fastcgi-address> [port]
#   nginx.sh stop  <base-dir>
#
# <fastcgi-address> is eas-fcgi's socket: unix:/path or 127.0.0.1:port.
# start writes <base-dir>/nginx.conf (the locations come from
# deploy/nginx/eas-fcgi-locations.conf, the same file production uses),
# starts nginx under setsid with its pid file, logs and temp folders under
# <base-dir>, waits until it answers, and writes <base-dir>/env:
#   NGINX_PID=<pid>  NGINX_PIDFILE=<path>  NGINX_PORT=<port>
#   EAS_URL=http://127.0.0.1:<port>
# Without [port] a free one is chosen. stop uses `nginx -s quit`, then the
# pid file; never a process name.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "nginx.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: nginx.sh start <base-dir> <fastcgi-address> [port] | stop <base-dir>"
cmd=$1
base=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$base"
base=$(cd "$base" && pwd)
conf=$base/nginx.conf
pidfile=$base/nginx.pid
NGINX=${NGINX:-nginx}



stop() {
  if pid_alive; then
    local pid
    pid=$(cat "$pidfile")
    "$NGINX" -p "$base" -c "$conf" -e "$base/error.log" -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    running "$pid" && kill -TERM "$pid" 2>/dev/null || true
    echo "nginx.sh: stopped (pid $pid)"
  else
    echo "nginx.sh: not running in $base"
  fi
  rm -f "$pidfile"
}

start() {
  local upstream=${1:?fastcgi address}
  local want_port=${2:-}
  command -v "$NGINX" >/dev/null || die "nginx not installed (deploy/install-deps.sh)"
  pid_alive && stop >/dev/null
  case $upstream in
    unix:/*|127.*:[0-9]*|localhost:[0-9]*) ;;
    /*) upstream=unix:$upstream ;;
    *) die "fastcgi address must be unix:/path or 127.0.0.1:port, got '$upstream'" ;;
  esac
  mkdir -p "$base/tmp"
  rm -f "$base/env"
  # nginx's workers run as the calling user, so they can reach a socket the
  # same user created (as root, nginx would otherwise switch to nobody).
  local user group
  user=$(id -un) group=$(id -gn)
  local attempt port
  for attempt in 1 2 3; do
    port=${want_port:-$(free_port)} || die "no free port"
    cat >"$conf" <<CONF
# Written by deploy/local/nginx.sh; regenerated on every start.
user $user $group;
worker_processes auto;
worker_rlimit_nofile 65536;
pid $pidfile;
error_log $base/error.log warn;
daemon on;
events {
    worker_connections 16384;
}
http {
    access_log $base/access.log combined buffer=64k flush=1s;
    client_body_temp_path $base/tmp/body;
    fastcgi_temp_path $base/tmp/fastcgi;
    proxy_temp_path $base/tmp/proxy;
    uwsgi_temp_path $base/tmp/uwsgi;
    scgi_temp_path $base/tmp/scgi;
    server_tokens off;
    upstream eas_fcgi {
        server $upstream;
    }
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        include $top/deploy/nginx/eas-fcgi-locations.conf;
        location / {
            return 404;
        }
    }
}
CONF
    "$NGINX" -t -q -p "$base" -c "$conf" -e "$base/error.log" || die "nginx -t failed for $conf"
    setsid "$NGINX" -p "$base" -c "$conf" -e "$base/error.log" </dev/null >>"$base/nginx.out" 2>&1 || {
      tail -n 5 "$base/error.log" >&2 || true
      [ -n "$want_port" ] && die "nginx did not start on port $port"
      echo "nginx.sh: attempt $attempt on port $port failed" >&2
      continue
    }
    local ok=0
    for _ in $(seq 1 50); do
      if pid_alive && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ok=1; break; fi
      sleep 0.1
    done
    if [ $ok -eq 1 ]; then
      {
        echo "NGINX_PID=$(cat "$pidfile")"
        echo "NGINX_PIDFILE=$pidfile"
        echo "NGINX_PORT=$port"
        echo "NGINX_LOG=$base/error.log"
        echo "EAS_URL=http://127.0.0.1:$port"
      } >"$base/env"
      echo "nginx.sh: running (pid $(cat "$pidfile")) on http://127.0.0.1:$port -> $upstream"
      return 0
    fi
    stop >/dev/null || true
    [ -n "$want_port" ] && break
  done
  tail -n 20 "$base/error.log" >&2 || true
  die "nginx did not come up (log: $base/error.log)"
}

case $cmd in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
