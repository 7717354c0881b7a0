#!/usr/bin/env bash
# The postfix test fixture: Postfix on 127.0.0.1:<free port> accepting mail
# from loopback and delivering @example.test to the Dovecot fixture over LMTP
# (nothing is relayed anywhere else). Needs root (Postfix's master).
#
#   postfix.sh start <run-dir> <dovecot-env>
#   postfix.sh stop  <run-dir>
#
# Writes <run-dir>/env (KEY=VALUE, safe to `source`):
#   SMTP_HOST=127.0.0.1  SMTP_PORT=<port>  POSTFIX_CONF=<dir>  POSTFIX_LOG=<file>
#   POSTFIX_PIDFILE=<master.pid>  SMTP_MESSAGE_SIZE_LIMIT=<bytes> (larger
#   messages get 552, for the AttachmentIsTooLarge test; kept under nginx's
#   default 1 MB request body so the refusal comes from Postfix)
# Stopped with `postfix -c <conf> stop`, else by the master's pid file.
set -euo pipefail
die() { echo "postfix.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: postfix.sh start <run-dir> <dovecot-env> | stop <run-dir>"
cmd=$1
run=$2
mkdir -p "$run"
run=$(cd "$run" && pwd)
conf=$run/conf
pidfile=$run/queue/pid/master.pid
domain=example.test
size_limit=400000

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

running() { [ -s "$pidfile" ] && kill -0 "$(tr -d ' ' <"$pidfile")" 2>/dev/null; }

stop() {
  if running; then
    local pid
    pid=$(tr -d ' ' <"$pidfile")
    postfix -c "$conf" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "postfix.sh: stopped (pid $pid)"
  else
    echo "postfix.sh: not running in $run"
  fi
  rm -f "$run/env"
}

start() {
  local dovecot_env=${1:?dovecot env}
  [ "$(id -u)" -eq 0 ] || die "needs root (Postfix's master runs as root)"
  command -v postfix >/dev/null || die "postfix is not installed (deploy/install-deps.sh)"
  [ -r "$dovecot_env" ] || die "no Dovecot env at $dovecot_env (the dovecot fixture must run first)"
  local lmtp
  lmtp=$(sed -n 's/^LMTP_SOCKET=//p' "$dovecot_env")
  [ -S "$lmtp" ] || die "LMTP_SOCKET '$lmtp' from $dovecot_env is not a socket"
  stop >/dev/null 2>&1 || true
  mkdir -p "$conf" "$run/queue" "$run/data"
  chown postfix "$run/data"
  local port
  port=$(free_port) || die "no free port"
  cat >"$conf/main.cf" <<CONF
# Written by test/servers/postfix/postfix.sh; regenerated on every start.
compatibility_level = 3.6
queue_directory = $run/queue
data_directory = $run/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $run/postfix.log
maillog_file_prefixes = $run
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = localdomain
myorigin = localhost
# Nothing is delivered locally; $domain goes to Dovecot over LMTP. No alias
# domains (real-servers.md: an alias domain would reject the real users).
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
virtual_alias_domains =
virtual_mailbox_domains = $domain
virtual_transport = lmtp:unix:$lmtp
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtputf8_enable = no
message_size_limit = $size_limit
# Tests wait for delivery: no queue delays.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
biff = no
CONF
  # No service runs chrooted, so the LMTP client reaches Dovecot's socket.
  cat >"$conf/master.cf" <<CONF
127.0.0.1:$port inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
CONF
  setsid postfix -c "$conf" start </dev/null >>"$run/start.out" 2>&1 ||
    die "postfix did not start (see $run/start.out and $run/postfix.log)"
  local ok=0
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ok=1; break; fi
    sleep 0.1
  done
  [ $ok -eq 1 ] || { stop; die "postfix does not answer on 127.0.0.1:$port (see $run/postfix.log)"; }
  {
    echo "# written by test/servers/postfix/postfix.sh"
    echo "SMTP_HOST=127.0.0.1"
    echo "SMTP_PORT=$port"
    echo "POSTFIX_CONF=$conf"
    echo "POSTFIX_LOG=$run/postfix.log"
    echo "POSTFIX_PIDFILE=$pidfile"
    echo "SMTP_MESSAGE_SIZE_LIMIT=$size_limit"
  } >"$run/env.tmp"
  mv "$run/env.tmp" "$run/env"
  echo "postfix.sh: up on 127.0.0.1:$port; env in $run/env"
}

case $cmd in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
