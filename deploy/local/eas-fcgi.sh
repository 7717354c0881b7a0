#!/usr/bin/env bash
# eas-fcgi on loopback for the tests and the quick-start.
#
#   eas-fcgi.sh start <base-dir> [section.key=value ...]
#   eas-fcgi.sh stop  <base-dir>
#
# start writes <base-dir>/eas-fcgi.ini (socket, pid file and store under
# <base-dir>; every other key at its default unless given as an argument,
# e.g. auth.imap_port=10143 server.workers=2), checks it with
# --check-config, starts eas-fcgi under setsid (stderr to
# <base-dir>/eas-fcgi.log), waits until every worker accepts and writes
# <base-dir>/env:
#   EAS_FCGI_PIDFILE=<path>  EAS_FCGI_PID=<master pid>  EAS_FCGI_LOG=<path>
#   EAS_FCGI_SOCKET=<path>   EAS_FCGI_CONFIG=<path>
# The binary is $EAS_FCGI_BIN, else build/fcgi/eas-fcgi of this checkout.
# Before starting, start runs `easctl db upgrade --store <store.url>` (a
# new store gets its schema, an older one is migrated); easctl is
# $EAS_EASCTL_BIN, else policies/easctl of the build eas-fcgi comes from.
# stop sends SIGTERM (drain) to the pid in the pid file, SIGKILL after 60 s.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "eas-fcgi.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: eas-fcgi.sh start <base-dir> [section.key=value ...] | stop <base-dir>"
cmd=$1
base=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$base"
base=$(cd "$base" && pwd)
ini=$base/eas-fcgi.ini
pidfile=$base/eas-fcgi.pid
logfile=$base/eas-fcgi.log
bin=${EAS_FCGI_BIN:-$top/build/fcgi/eas-fcgi}
easctl=${EAS_EASCTL_BIN:-$(dirname "$bin")/../policies/easctl}

stop() {
  if pid_alive; then
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
      running "$pid" || break
      sleep 0.1
    done
    if running "$pid"; then
      echo "eas-fcgi.sh: pid $pid did not drain in 60 s; SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "eas-fcgi.sh: stopped (pid $pid)"
  else
    echo "eas-fcgi.sh: not running in $base"
  fi
  rm -f "$pidfile"
}

start() {
  [ -x "$bin" ] || die "no eas-fcgi binary at $bin (build it, or set EAS_FCGI_BIN)"
  pid_alive && stop >/dev/null
  local sections=(server http auth autodiscover store smtp push)
  declare -A val=()
  local order=()
  set_key() {
    [[ $1 == *.* ]] || die "override '$1' is not section.key"
    [ -n "${val[$1]+x}" ] || order+=("$1")
    val[$1]=$2
  }
  set_key server.socket "$base/eas-fcgi.sock"
  set_key auth.throttle_state_file "$base/auth-throttle"
  set_key smtp.notice_lock_file "$base/notices.lock"
  set_key server.socket_mode 0660
  set_key server.workers 2
  set_key server.threads 8
  set_key server.log stderr
  set_key server.log_level info
  set_key server.pid_file "$pidfile"
  set_key server.drain_timeout_seconds 20
  set_key store.url "sqlite:$base/eas.db"
  local kv
  for kv in "$@"; do
    [[ $kv == *=* ]] || die "argument '$kv' is not section.key=value"
    set_key "${kv%%=*}" "${kv#*=}"
  done
  {
    echo "# Written by deploy/local/eas-fcgi.sh; regenerated on every start."
    echo "# Every key: deploy/eas-fcgi.ini.example"
    local s k
    for s in "${sections[@]}"; do
      echo
      echo "[$s]"
      for k in "${order[@]}"; do
        [ "${k%%.*}" = "$s" ] && echo "${k#*.} = ${val[$k]}"
      done
    done
  } >"$ini"
  "$bin" --check-config "$ini" >/dev/null || die "generated $ini is invalid (see above)"
  [ -x "$easctl" ] || die "no easctl binary at $easctl (build it, or set EAS_EASCTL_BIN)"
  "$easctl" db upgrade --store "${val[store.url]}" >>"$base/easctl.log" 2>&1 ||
    { tail -n 5 "$base/easctl.log" >&2; die "easctl db upgrade failed (log: $base/easctl.log)"; }
  rm -f "$base/env"
  : >>"$logfile"
  local from workers
  from=$(stat -c %s "$logfile")
  workers=${val[server.workers]}
  [ "$workers" -gt 0 ] 2>/dev/null || workers=1
  setsid "$bin" --config "$ini" </dev/null >>"$logfile" 2>&1 &
  local ok=0
  for _ in $(seq 1 150); do
    if pid_alive && [ "$(tail -c +$((from + 1)) "$logfile" | grep -c 'accepting with')" -ge "$workers" ]; then
      ok=1
      break
    fi
    sleep 0.1
  done
  [ $ok -eq 1 ] || { tail -n 20 "$logfile" >&2; die "eas-fcgi did not come up (log: $logfile)"; }
  {
    echo "EAS_FCGI_PIDFILE=$pidfile"
    echo "EAS_FCGI_PID=$(cat "$pidfile")"
    echo "EAS_FCGI_LOG=$logfile"
    echo "EAS_FCGI_SOCKET=${val[server.socket]}"
    echo "EAS_FCGI_CONFIG=$ini"
  } >"$base/env"
  echo "eas-fcgi.sh: running (pid $(cat "$pidfile")) on ${val[server.socket]}, log $logfile"
}

case $cmd in
  start) start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
