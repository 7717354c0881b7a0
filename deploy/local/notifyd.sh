#!/usr/bin/env bash
# eas-notifyd (the notification sidecar) on loopback for the tests and the
# quick-start.
#
#   notifyd.sh start   <base-dir> [udp-port]
#   notifyd.sh stop    <base-dir>
#   notifyd.sh restart <base-dir>      (same port, socket and secret)
#
# start creates <base-dir>/notify.secret if missing (32 random bytes as hex,
# mode 0640, group "mail" so that Dovecot's mail processes can read it),
# starts eas-notifyd under setsid (stderr to <base-dir>/notifyd.log) with the
# relay socket <base-dir>/notifyd.sock, waits for the socket and writes
# <base-dir>/env:
#   NOTIFYD_UDP_HOST=127.0.0.1  NOTIFYD_UDP_PORT=<port>  NOTIFYD_SOCKET=<path>
#   NOTIFYD_SECRET_FILE=<path>  NOTIFYD_PIDFILE=<path>   NOTIFYD_PID=<pid>
#   NOTIFYD_LOG=<path>
# The port: the argument, else the one of the previous run in this folder
# (so a Dovecot configured with it keeps working), else one the kernel picks.
# The binary is $EAS_NOTIFYD_BIN, else build/fcgi/eas-notifyd of this checkout.
# stop sends SIGTERM to the pid in the pid file (SIGKILL after 10 s).
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "notifyd.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: notifyd.sh start|stop|restart <base-dir> [udp-port]"
cmd=$1
base=$2
port_arg=${3:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$base"
base=$(cd "$base" && pwd)
pidfile=$base/notifyd.pid
logfile=$base/notifyd.log
sock=$base/notifyd.sock
secret=$base/notify.secret
portfile=$base/udp.port
bin=${EAS_NOTIFYD_BIN:-$top/build/fcgi/eas-notifyd}

stop() {
  if pid_alive; then
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      echo "notifyd.sh: pid $pid did not stop in 10 s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "notifyd.sh: stopped (pid $pid)"
  else
    echo "notifyd.sh: not running in $base"
  fi
  rm -f "$pidfile"
}

start() {
  [ -x "$bin" ] || die "no eas-notifyd at $bin (build it, or set EAS_NOTIFYD_BIN)"
  local port=$port_arg
  if [ -z "$port" ] && [ -s "$base/env" ]; then
    port=$(sed -n 's/^NOTIFYD_UDP_PORT=//p' "$base/env")
  fi
  port=${port:-0}
  pid_alive && stop >/dev/null
  if [ ! -s "$secret" ]; then
    (umask 077; od -An -tx1 -N32 -v /dev/urandom | tr -d ' \n' >"$secret")
  fi
  chmod 0640 "$secret"
  # Dovecot reads it as the mail user (uid "mail" in deploy/local/dovecot.sh).
  if getent group mail >/dev/null && [ "$(id -u)" -eq 0 ]; then
    chgrp mail "$secret"
    chmod o+x "$base"
  fi
  rm -f "$portfile" "$base/env"
  : >>"$logfile"
  setsid "$bin" --udp "127.0.0.1:$port" --socket "$sock" --secret-file "$secret" \
    --pid-file "$pidfile" --port-file "$portfile" --socket-mode 0666 --stats-interval 10 \
    </dev/null >>"$logfile" 2>&1 &
  local child=$!
  for _ in $(seq 1 100); do
    if [ -S "$sock" ] && [ -s "$portfile" ] && pid_alive; then break; fi
    running "$child" || { tail -n 20 "$logfile" >&2; die "eas-notifyd exited (log: $logfile)"; }
    sleep 0.05
  done
  [ -S "$sock" ] && [ -s "$portfile" ] || { tail -n 20 "$logfile" >&2; die "eas-notifyd did not come up"; }
  port=$(cat "$portfile")
  {
    echo "NOTIFYD_UDP_HOST=127.0.0.1"
    echo "NOTIFYD_UDP_PORT=$port"
    echo "NOTIFYD_SOCKET=$sock"
    echo "NOTIFYD_SECRET_FILE=$secret"
    echo "NOTIFYD_PIDFILE=$pidfile"
    echo "NOTIFYD_PID=$(cat "$pidfile")"
    echo "NOTIFYD_LOG=$logfile"
  } >"$base/env.tmp"
  mv "$base/env.tmp" "$base/env"
  echo "notifyd.sh: running (pid $(cat "$pidfile")), UDP 127.0.0.1:$port, relay $sock, env $base/env"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  restart) stop >/dev/null; start ;;
  *) die "unknown command $cmd (start|stop|restart)" ;;
esac
