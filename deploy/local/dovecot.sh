#!/usr/bin/env bash
# A private Dovecot (IMAP + LMTP) for the tests and the quick-start.
#
#   dovecot.sh start <base-dir> [users-file]
#   dovecot.sh stop  <base-dir>
#
# start writes <base-dir>/dovecot.conf, a passwd-file and maildirs under
# <base-dir>, starts `dovecot -c` under setsid (log: <base-dir>/dovecot.log),
# waits for the IMAP greeting and writes <base-dir>/env:
#   IMAP_HOST=127.0.0.1  IMAP_PORT=<free port>  LMTP_SOCKET=<base-dir>/lmtp
#   SASL_SOCKET=<base-dir>/auth-client  (Dovecot SASL, for Postfix's AUTH)
#   MAIL_ROOT=<base-dir>/mail  (maildirs at MAIL_ROOT/<domain>/<user>/Maildir)
#   EAS_TEST_USER<n>=<login>  EAS_TEST_PASS<n>=<password>
# One KEY=VALUE a line, the value raw to the end of the line. A password with
# characters a shell would interpret is written as EAS_TEST_PASS<n>_HEX=<hex
# of its UTF-8 bytes> instead, so that the file stays safe to `source`.
#
# users-file: one "login:password" a line (split at the first colon; # starts
# a comment). Default: alice@example.test, bob@example.test,
# carol@example.test (with quotes, a backslash, spaces and UTF-8) and
# dave@example.test (for tests that lock a user out).
#
# EAS_DOVECOT_TLS=1 in the environment of `start` adds TLS: a CA and a server
# certificate for DNS:localhost only (so connecting by IP is a name mismatch)
# under <base-dir>/tls, STARTTLS on IMAP_PORT and IMAPS on a second port; the
# env file then also has IMAPS_PORT= and IMAP_CA_FILE=.
#
# EAS_DOVECOT_NOTIFY_ENV=<env file of deploy/local/notifyd.sh> in the
# environment of `start` loads deploy/dovecot/eas-notify.lua (push_notification
# Lua driver) sending change events to that eas-notifyd; the env file then also
# has NOTIFY_UDP_PORT= and NOTIFYD_ENV=<that file>. Without lua-socket, or if
# that file is missing, Dovecot runs without it (a warning says so).
#
# stop uses `doveadm -c CONF stop`, then the pid file; never a process name.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "dovecot.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: dovecot.sh start|stop <base-dir> [users-file]"
cmd=$1
base=$2
users_file=${3:-}
mkdir -p "$base"
base=$(cd "$base" && pwd)
conf=$base/dovecot.conf
rundir=$base/run          # dovecot's base_dir: master.pid and internal sockets
pidfile=$rundir/master.pid

stop() {
  [ -f "$conf" ] || { echo "dovecot.sh: nothing to stop in $base"; return 0; }
  if pid_alive; then
    local pid
    pid=$(cat "$pidfile")
    doveadm -c "$conf" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "dovecot.sh: stopped (pid $pid)"
  else
    echo "dovecot.sh: not running"
  fi
  rm -f "$pidfile"
}

# True when the server on $1 answers with an IMAP greeting.
imap_greets() {
  local line=""
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  IFS= read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ $line == "* OK"* ]]
}

shell_safe() { [[ $1 =~ ^[A-Za-z0-9._@+%=,/-]*$ ]]; }

start() {
  if pid_alive; then
    stop
  fi
  command -v dovecot >/dev/null || die "dovecot not installed (deploy/install-deps.sh)"

  # Mail is never accessed as uid 0 (Dovecot refuses it whatever
  # first_valid_uid says): the maildirs belong to the system user "mail"
  # (uid 8 on every Debian), first/last_valid_uid admit exactly that uid, and
  # Dovecot's own processes run as its usual dovecot/dovenull users. Running
  # unprivileged would need every listener's owner overridden: not supported.
  [ "$(id -u)" -eq 0 ] || die "start needs root (mail is delivered as the system user 'mail')"
  local uid gid internal_user=dovecot login_user=dovenull
  uid=$(id -u mail) gid=$(id -g mail)
  id dovecot >/dev/null 2>&1 && id dovenull >/dev/null 2>&1 \
    || die "users dovecot/dovenull missing (is dovecot-core installed?)"

  # Sockets left by a run that was killed make the master refuse to start.
  rm -rf "$rundir"
  mkdir -p "$rundir" "$base/state" "$base/mail"
  chmod 0755 "$base" "$rundir"
  rm -f "$base/env" "$base/lmtp"

  # Users: default set or the caller's file.
  local users=()
  if [ -n "$users_file" ]; then
    [ -r "$users_file" ] || die "cannot read $users_file"
    local line
    while IFS= read -r line || [ -n "$line" ]; do
      [[ -z $line || $line == \#* ]] && continue
      [[ $line == *:* ]] || die "bad line in $users_file (want login:password)"
      users+=("$line")
    done <"$users_file"
  else
    # dave is for tests that lock a user out (throttling): the others must
    # keep working while he is locked.
    users=("alice@example.test:alice-pass-1" "bob@example.test:bob-pass-2"
           'carol@example.test:c"a\r ol'"'"'s pässwörd ✓ "q"' "dave@example.test:dave-pass-4")
  fi

  local passwd=$base/users.passwd env_tmp=$base/env.tmp n=0 entry login pass domain local_part home
  summary=""
  : >"$passwd"
  {
    echo "# written by deploy/local/dovecot.sh"
  } >"$env_tmp"
  for entry in "${users[@]}"; do
    login=${entry%%:*}
    pass=${entry#*:}
    [ -n "$login" ] || die "empty login in users"
    login=${login,,}
    if [[ $login == *@* ]]; then
      local_part=${login%@*} domain=${login#*@}
    else
      local_part=$login domain=localdomain
    fi
    home=$base/mail/$domain/$local_part
    mkdir -p "$home"
    # {PLAIN.B64}: any byte may appear in the password, colons included.
    printf '%s:{PLAIN.B64}%s:%s:%s::%s::\n' "$login" \
      "$(printf '%s' "$pass" | base64 -w0)" "$uid" "$gid" "$home" >>"$passwd"
    n=$((n + 1))
    echo "EAS_TEST_USER$n=$login" >>"$env_tmp"
    if shell_safe "$pass"; then
      echo "EAS_TEST_PASS$n=$pass" >>"$env_tmp"
      summary+="dovecot.sh: user $login password $pass"$'\n'
    else
      summary+="dovecot.sh: user $login password in EAS_TEST_PASS${n}_HEX"$'\n'
      echo "EAS_TEST_PASS${n}_HEX=$(printf '%s' "$pass" | od -An -tx1 -v | tr -d ' \n')" >>"$env_tmp"
    fi
  done
  chown -R "$uid:$gid" "$base/mail"
  chmod 0640 "$passwd"
  chgrp "$(id -g "$internal_user")" "$passwd"

  local tls=${EAS_DOVECOT_TLS:-0} tlsdir=$base/tls
  if [ "$tls" = 1 ]; then
    mkdir -p "$tlsdir"
    if [ ! -s "$tlsdir/server.crt" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=eas-fcgi test CA" \
        -keyout "$tlsdir/ca.key" -out "$tlsdir/ca.crt" >/dev/null 2>&1 || die "CA generation failed"
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$tlsdir/server.key" -out "$tlsdir/server.csr" >/dev/null 2>&1 || die "CSR failed"
      printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tlsdir/ext.cnf"
      openssl x509 -req -in "$tlsdir/server.csr" -CA "$tlsdir/ca.crt" -CAkey "$tlsdir/ca.key" \
        -CAcreateserial -days 3650 -extfile "$tlsdir/ext.cnf" -out "$tlsdir/server.crt" >/dev/null 2>&1 \
        || die "certificate signing failed"
    fi
  fi

  # Change events to eas-notifyd (copies: the mail user must read them).
  local notify_conf="" notify_env=${EAS_DOVECOT_NOTIFY_ENV:-} notify_port=""
  if [ -n "$notify_env" ]; then
    local lua_src
    lua_src=$(cd "$(dirname "$0")/../dovecot" && pwd)/eas-notify.lua
    notify_port=$(sed -n 's/^NOTIFYD_UDP_PORT=//p' "$notify_env" 2>/dev/null || true)
    local notify_secret
    notify_secret=$(sed -n 's/^NOTIFYD_SECRET_FILE=//p' "$notify_env" 2>/dev/null || true)
    if [ -n "$notify_port" ] && [ -r "$notify_secret" ] && [ -r "$lua_src" ]; then
      cp "$lua_src" "$base/eas-notify.lua"
      cp "$notify_secret" "$base/notify.secret"
      chmod 0644 "$base/eas-notify.lua"
      chmod 0640 "$base/notify.secret"
      chgrp "$gid" "$base/notify.secret"
      notify_conf="mail_plugins = \$mail_plugins notify push_notification mail_lua push_notification_lua
plugin {
  push_notification_driver = lua:file=$base/eas-notify.lua
  eas_notify_udp = 127.0.0.1:$notify_port
  eas_notify_secret_file = $base/notify.secret
}"
    else
      echo "dovecot.sh: no usable eas-notifyd env at $notify_env; change events off" >&2
      notify_port=""
    fi
  fi

  local attempt port imaps_port=0
  for attempt in 1 2 3; do
    port=$(free_port) || die "no free port"
    if [ "$tls" = 1 ]; then
      imaps_port=$(free_port) || die "no free port"
      [ "$imaps_port" != "$port" ] || imaps_port=$((port + 1))
    fi
    cat >"$conf" <<EOF
# Written by deploy/local/dovecot.sh; regenerated on every start.
instance_name = eas-test-$port
base_dir = $rundir
state_dir = $base/state
log_path = $base/dovecot.log
info_log_path = $base/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = $([ "$tls" = 1 ] && echo yes || echo no)
$([ "$tls" = 1 ] && printf 'ssl_cert = <%s\nssl_key = <%s\n' "$tlsdir/server.crt" "$tlsdir/server.key")
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
default_internal_user = $internal_user
default_login_user = $login_user
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = $gid
last_valid_gid = $gid
mail_location = maildir:~/Maildir
mail_access_groups =
shutdown_clients = yes
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $passwd
}
userdb {
  driver = passwd-file
  args = username_format=%Lu $passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps_port
  }
}
# No auth penalty: anvil would delay every login from 127.0.0.1 by up to
# 15 s after a few failures, and the tests fail logins on purpose (eas-fcgi
# throttles failures itself). A listener with mode 0 is not created.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service lmtp {
  unix_listener $base/lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
  # SASL for Postfix (smtpd_sasl_type = dovecot, deploy/local/postfix.sh --tls).
  unix_listener $base/auth-client {
    mode = 0666
  }
}
protocol lmtp {
  lmtp_save_to_detail_mailbox = no
}
$notify_conf
EOF
    : >>"$base/dovecot.log"
    local log_size
    log_size=$(stat -c %s "$base/dovecot.log")
    if ! setsid dovecot -c "$conf" </dev/null >>"$base/dovecot.log" 2>&1; then
      # Another daemon may have taken the port since free_port looked: retry.
      if tail -c +"$((log_size + 1))" "$base/dovecot.log" | grep -q "Address already in use"; then
        echo "dovecot.sh: port $port taken meanwhile, retrying" >&2
        rm -rf "$rundir"
        mkdir -p "$rundir"
        continue
      fi
      tail -n 20 "$base/dovecot.log" >&2
      die "dovecot -c $conf failed"
    fi
    # `dovecot` forks the master and returns; the master writes its pid
    # file a moment later. Wait (at most 15 s) for pid, LMTP socket and greeting.
    local ok=0
    for _ in $(seq 1 150); do
      if pid_alive && [ -S "$base/lmtp" ] && imap_greets "$port" 2>/dev/null; then
        ok=1
        break
      fi
      if [ -f "$pidfile" ] && ! pid_alive; then break; fi
      sleep 0.1
    done
    if [ $ok -eq 1 ]; then
      {
        echo "IMAP_HOST=127.0.0.1"
        echo "IMAP_PORT=$port"
        echo "LMTP_SOCKET=$base/lmtp"
        echo "SASL_SOCKET=$base/auth-client"
        echo "MAIL_ROOT=$base/mail"
        echo "DOVECOT_CONF=$conf"
        [ -z "$notify_port" ] || printf 'NOTIFY_UDP_PORT=%s\nNOTIFYD_ENV=%s\n' "$notify_port" "$notify_env"
        if [ "$tls" = 1 ]; then
          echo "IMAPS_PORT=$imaps_port"
          echo "IMAP_CA_FILE=$tlsdir/ca.crt"
        fi
        cat "$env_tmp"
      } >"$base/env"
      rm -f "$env_tmp"
      echo "dovecot.sh: running (pid $(cat "$pidfile")), IMAP 127.0.0.1:$port, LMTP $base/lmtp, env $base/env"
      printf '%s' "$summary"
      return 0
    fi
    echo "dovecot.sh: attempt $attempt on port $port failed" >&2
    stop >/dev/null || true
    rm -rf "$rundir"
    mkdir -p "$rundir"
  done
  tail -n 30 "$base/dovecot.log" >&2
  die "dovecot did not come up (log: $base/dovecot.log)"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
