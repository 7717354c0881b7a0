#!/usr/bin/env bash
# A private Postfix on 127.0.0.1 delivering @example.test to a Dovecot of
# deploy/local/dovecot.sh over LMTP (nothing is relayed anywhere else), for
# the quick-start and the postfix test fixture. Needs root (Postfix's master).
#
#   postfix.sh start <run-dir> <dovecot-env> [--port N] [--tls] [name=value ...]
#   postfix.sh stop  <run-dir>
#
# start writes <run-dir>/conf/{main,master}.cf, starts `postfix -c` under
# setsid (log: <run-dir>/postfix.log), waits until the port answers and writes
# <run-dir>/env (KEY=VALUE, safe to `source`):
#   SMTP_HOST=127.0.0.1  SMTP_PORT=<port: from loopback, no AUTH>
#   POSTFIX_CONF=<dir>  POSTFIX_LOG=<file>  POSTFIX_PIDFILE=<master.pid>
#   SMTP_MESSAGE_SIZE_LIMIT=<bytes: larger messages get 552>
# --port N: that port when it is free, else a free one.
# --tls: also, with a CA and a server certificate for DNS:localhost only made
#   on every start under <run-dir>/tls, and AUTH through Dovecot's SASL
#   socket (SASL_SOCKET of the Dovecot env):
#   SMTP_SUBMISSION_PORT=<port: STARTTLS required, AUTH required, AUTH only
#     over TLS>  SMTPS_PORT=<port: TLS from the first byte, AUTH required>
#   SMTP_CA_FILE=<the CA>  SMTP_CERT_FILE=<the server certificate>
#   SMTP_TLS_HOST=localhost (the only name the certificate holds)
# name=value: extra main.cf settings (e.g. message_size_limit=400000).
# On failure the last stderr line is "postfix.sh: <why>" and the exit code 1.
# stop uses `postfix -c <conf> stop`, then the master's pid file; never a
# process name.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"
die() { echo "postfix.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: postfix.sh start <run-dir> <dovecot-env> [--port N] [--tls] [name=value ...] | stop <run-dir>"
cmd=$1
run=$2
domain=example.test

paths() {
  conf=$run/conf
  pidfile=$run/queue/pid/master.pid
}

stop() {
  [ -d "$run" ] || { echo "postfix.sh: nothing to stop in $run"; return 0; }
  run=$(cd "$run" && pwd)
  paths
  if pid_alive; then
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

# A CA and a server certificate for DNS:localhost (so connecting by IP is a
# name mismatch), both new on every start.
make_certs() {
  local tls=$1
  rm -rf "$tls"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=eas-fcgi test SMTP CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" >/dev/null 2>&1 || die "CA generation failed"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1 || die "CSR failed"
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
    -CAcreateserial -days 3650 -extfile "$tls/ext.cnf" -out "$tls/server.crt" >/dev/null 2>&1 \
    || die "certificate signing failed"
  chmod 0644 "$tls/ca.crt" "$tls/server.crt"
  chmod 0600 "$tls/ca.key" "$tls/server.key"
}

# Writes main.cf and master.cf for $port (and $sub_port, $smtps_port with
# --tls); reads tls, lmtp, sasl and extra of start().
write_config() {
  cat >"$conf/main.cf" <<CONF
# Written by deploy/local/postfix.sh; regenerated on every start.
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
biff = no
CONF
  # Debian's master.cf chroots most services; ours runs none chrooted, so
  # that the LMTP client reaches Dovecot's socket under the run folder.
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
  if [ $tls -eq 1 ]; then
    # Plain port 25-style service above stays as it was; these two are the
    # authenticated ones. Unauthenticated clients (loopback included: no
    # permit_mynetworks) are refused at RCPT.
    cat >>"$conf/main.cf" <<CONF
smtpd_tls_cert_file = $run/tls/server.crt
smtpd_tls_key_file = $run/tls/server.key
smtpd_sasl_type = dovecot
smtpd_sasl_path = $sasl
CONF
    cat >>"$conf/master.cf" <<CONF
tlsmgr unix - - n 1000? 1 tlsmgr
127.0.0.1:$sub_port inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$smtps_port inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
CONF
  fi
  local kv
  for kv in "${extra[@]}"; do
    printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$conf/main.cf"
  done
}

# Starts Postfix and waits until every port answers. Sets started and
# log_size (where this attempt's log lines begin).
launch() {
  : >>"$run/postfix.log"
  log_size=$(stat -c %s "$run/postfix.log")
  started=0
  setsid postfix -c "$conf" start </dev/null >>"$run/start.out" 2>&1 || return 1
  started=1
  local p ok
  for _ in $(seq 1 100); do
    ok=1
    for p in $port $sub_port $smtps_port; do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { ok=0; break; }
    done
    [ $ok -eq 0 ] || return 0
    sleep 0.1
  done
  return 1
}

start() {
  local dovecot_env=${1:-} want_port="" tls=0 extra=()
  [ -n "$dovecot_env" ] || die "usage: postfix.sh start <run-dir> <dovecot-env> ..."
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --port) want_port=${2:?--port N}; shift 2 ;;
      --tls) tls=1; shift ;;
      *=*) extra+=("$1"); shift ;;
      *) die "unknown argument $1" ;;
    esac
  done
  [ "$(id -u)" -eq 0 ] || die "needs root"
  command -v postfix >/dev/null || die "postfix not installed"
  [ -r "$dovecot_env" ] || die "no Dovecot env at $dovecot_env (start Dovecot first)"
  local lmtp sasl=""
  lmtp=$(sed -n 's/^LMTP_SOCKET=//p' "$dovecot_env")
  [ -S "$lmtp" ] || die "LMTP_SOCKET '$lmtp' from $dovecot_env is not a socket"
  if [ $tls -eq 1 ]; then
    sasl=$(sed -n 's/^SASL_SOCKET=//p' "$dovecot_env")
    [ -S "$sasl" ] || die "SASL_SOCKET '$sasl' from $dovecot_env is not a socket"
  fi
  mkdir -p "$run"
  run=$(cd "$run" && pwd)
  paths
  stop >/dev/null 2>&1 || true
  mkdir -p "$conf" "$run/queue" "$run/data"
  chown postfix "$run/data"
  [ $tls -eq 0 ] || make_certs "$run/tls"
  local attempt
  # Another daemon may take a port between the check and Postfix's bind:
  # then again with other ports.
  for attempt in 1 2 3; do
    if [ -n "$want_port" ] && [ "$attempt" -eq 1 ] && port_free "$want_port"; then
      port=$want_port
    else
      port=$(free_port) || die "no free port"
    fi
    sub_port="" smtps_port=""
    if [ $tls -eq 1 ]; then
      sub_port=$(free_port "$port") || die "no free port"
      smtps_port=$(free_port "$port" "$sub_port") || die "no free port"
    fi
    write_config
    launch && break
    stop >/dev/null 2>&1 || true
    if [ "$attempt" -lt 3 ] && tail -c +"$((log_size + 1))" "$run/postfix.log" | grep -q "Address already in use"; then
      echo "postfix.sh: a port was taken meanwhile, retrying" >&2
      continue
    fi
    [ "$started" -eq 1 ] || die "postfix did not start (see $run/postfix.log)"
    die "postfix does not answer on 127.0.0.1:$port (see $run/postfix.log)"
  done
  {
    echo "# written by deploy/local/postfix.sh"
    echo "SMTP_HOST=127.0.0.1"
    echo "SMTP_PORT=$port"
    echo "POSTFIX_CONF=$conf"
    echo "POSTFIX_LOG=$run/postfix.log"
    echo "POSTFIX_PIDFILE=$pidfile"
    echo "SMTP_MESSAGE_SIZE_LIMIT=$(postconf -c "$conf" -h message_size_limit)"
    if [ $tls -eq 1 ]; then
      echo "SMTP_SUBMISSION_PORT=$sub_port"
      echo "SMTPS_PORT=$smtps_port"
      echo "SMTP_CA_FILE=$run/tls/ca.crt"
      echo "SMTP_CERT_FILE=$run/tls/server.crt"
      echo "SMTP_TLS_HOST=localhost"
    fi
  } >"$run/env.tmp"
  mv "$run/env.tmp" "$run/env"
  echo "postfix.sh: up on 127.0.0.1:$port${sub_port:+ (submission $sub_port, smtps $smtps_port)}; env in $run/env"
}

case $cmd in
  start) shift 2; start "$@" ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
