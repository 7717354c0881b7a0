#!/usr/bin/env bash
# Quick start: installs the packages, builds eas-fcgi and starts, on
# localhost only, a private Dovecot with two demo users, eas-fcgi and nginx
# in front of it, and (as root) Postfix on loopback delivering to Dovecot.
# Prints the EAS URL, the users' credentials and the IMAP and SMTP addresses.
#
#   deploy/quickstart.sh          install, build, start (again: restart)
#   deploy/quickstart.sh stop     stop everything it started
#   deploy/quickstart.sh status   print the addresses again
#
# State (configs, logs, mail, the metadata store) lives in $EAS_DEMO_DIR,
# default /var/lib/eas-fcgi-demo as root, else /tmp/eas-fcgi-demo-<user>.
# The demo passwords are generated on the first start and kept there.
# nginx listens on 127.0.0.1:$EAS_DEMO_PORT (default 8080, or a free port).
# The build goes to $EAS_BUILD_DIR (default build/ of this checkout).
# No systemd needed: every daemon runs under setsid with its own pid file.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
action=${1:-start}
if [ "$(id -u)" -eq 0 ]; then
  state=${EAS_DEMO_DIR:-/var/lib/eas-fcgi-demo}
else
  state=${EAS_DEMO_DIR:-/tmp/eas-fcgi-demo-$(id -un)}
fi
want_port=${EAS_DEMO_PORT:-8080}
domain=example.test

say() { echo "quickstart: $*"; }
die() { echo "quickstart: $*" >&2; exit 1; }

postfix_running() {
  local pidf=$state/postfix/queue/pid/master.pid
  [ -s "$pidf" ] && kill -0 "$(tr -d ' ' <"$pidf")" 2>/dev/null
}

stop_postfix() {
  if postfix_running; then
    "$top/deploy/local/postfix.sh" stop "$state/postfix" >/dev/null 2>&1 || true
    echo "postfix: stopped"
  fi
}

# Postfix on 127.0.0.1:<port> (2525 when free), delivering @example.test to
# Dovecot over LMTP (deploy/local/postfix.sh). Sets smtp_port, or smtp_why.
start_postfix() {
  smtp_port="" smtp_why=""
  local d=$state/postfix why
  if ! why=$("$top/deploy/local/postfix.sh" start "$d" "$state/dovecot/env" --port 2525 2>&1 >/dev/null); then
    why=${why##*$'\n'}
    smtp_why=${why#postfix.sh: }
    return 0
  fi
  smtp_port=$(sed -n 's/^SMTP_PORT=//p' "$d/env")
  echo "$smtp_port" >"$d/port"
}

stop_all() {
  [ -d "$state" ] || { say "nothing to stop ($state does not exist)"; return 0; }
  stop_postfix || true
  "$top/deploy/local/nginx.sh" stop "$state/nginx" || true
  "$top/deploy/local/eas-fcgi.sh" stop "$state/eas-fcgi" || true
  "$top/deploy/local/dovecot.sh" stop "$state/dovecot" || true
}

port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

print_summary() {
  local url imap_port
  url=$(sed -n 's/^EAS_URL=//p' "$state/nginx/env" 2>/dev/null || true)
  imap_port=$(sed -n 's/^IMAP_PORT=//p' "$state/dovecot/env" 2>/dev/null || true)
  [ -n "$url" ] || die "not running (start it with deploy/quickstart.sh)"
  echo
  echo "================ eas-fcgi demo (localhost only) ================"
  echo "EAS URL:        $url/Microsoft-Server-ActiveSync"
  echo "Autodiscover:   $url/autodiscover/autodiscover.xml"
  local n=0 login pass
  while IFS=: read -r login pass; do
    [ -n "$login" ] || continue
    n=$((n + 1))
    echo "User $n:         $login"
    echo "Password $n:     $pass"
  done <"$state/users"
  echo "IMAP:           127.0.0.1:$imap_port (plain, same credentials)"
  if postfix_running && [ -s "$state/postfix/port" ]; then
    echo "SMTP:           127.0.0.1:$(cat "$state/postfix/port") (Postfix, no auth; accepts mail for @$domain from loopback, delivers to Dovecot)"
  else
    echo "SMTP:           not started${smtp_why:+ ($smtp_why)}"
  fi
  echo "Try:            curl -i -X OPTIONS -u '$(head -n1 "$state/users")' $url/Microsoft-Server-ActiveSync"
  echo "Logs:           $state/eas-fcgi/eas-fcgi.log, $state/nginx/error.log, $state/dovecot/dovecot.log"
  echo "Config:         $state/eas-fcgi/eas-fcgi.ini (every key: deploy/eas-fcgi.ini.example)"
  if [ -n "${EAS_DEMO_DIR:-}" ]; then
    echo "Stop:           EAS_DEMO_DIR=$state $top/deploy/quickstart.sh stop"
  else
    echo "Stop:           $top/deploy/quickstart.sh stop"
  fi
  echo "================================================================"
}

case $action in
  stop) stop_all; exit 0 ;;
  status) print_summary; exit 0 ;;
  start) ;;
  *) die "usage: deploy/quickstart.sh [start|stop|status]" ;;
esac

say "installing packages (deploy/install-deps.sh)"
"$top/deploy/install-deps.sh"

build=${EAS_BUILD_DIR:-$top/build}
say "building eas-fcgi in $build (log: $build/quickstart-build.log)"
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/quickstart-build.log" 2>&1 \
  || { tail -n 30 "$build/quickstart-build.log"; die "cmake configure failed"; }
cmake --build "$build" -j"$(nproc)" --target eas-fcgi >>"$build/quickstart-build.log" 2>&1 \
  || { tail -n 30 "$build/quickstart-build.log"; die "build failed"; }
bin=$build/fcgi/eas-fcgi
[ -x "$bin" ] || die "no binary at $bin"

mkdir -p "$state"
chmod 0755 "$state"
stop_all >/dev/null 2>&1 || true

# Two demo users; passwords made once and kept.
if [ ! -s "$state/users" ]; then
  umask 077
  {
    echo "demo1@$domain:$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    echo "demo2@$domain:$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  } >"$state/users"
  umask 022
fi

say "starting Dovecot (IMAP + LMTP on loopback)"
"$top/deploy/local/dovecot.sh" start "$state/dovecot" "$state/users"
imap_host=$(sed -n 's/^IMAP_HOST=//p' "$state/dovecot/env")
imap_port=$(sed -n 's/^IMAP_PORT=//p' "$state/dovecot/env")

say "starting Postfix (SMTP on loopback, delivering to Dovecot LMTP)"
start_postfix
if [ -n "$smtp_port" ]; then
  # A welcome message proves SMTP -> Postfix -> LMTP -> Dovecot.
  first_login=$(head -n1 "$state/users" | cut -d: -f1)
  python3 - "$smtp_port" "$first_login" <<'PY' || say "WARNING: the welcome mail could not be sent"
import smtplib, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "quickstart@localhost"
m["To"] = sys.argv[2]
m["Subject"] = "Welcome to the eas-fcgi demo"
m.set_content("This message came in over SMTP (Postfix) and LMTP (Dovecot).\n")
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.send_message(m)
PY
  mail_root=$(sed -n 's/^MAIL_ROOT=//p' "$state/dovecot/env")
  newdir=$mail_root/${first_login#*@}/${first_login%@*}/Maildir/new
  delivered=0
  for _ in $(seq 1 50); do
    if [ -n "$(ls -A "$newdir" 2>/dev/null)" ]; then delivered=1; break; fi
    sleep 0.1
  done
  if [ $delivered -eq 1 ]; then
    say "Postfix on 127.0.0.1:$smtp_port; a welcome mail reached $first_login's INBOX"
  else
    say "WARNING: Postfix on 127.0.0.1:$smtp_port, but the welcome mail did not reach $newdir (see $state/postfix/postfix.log)"
  fi
else
  say "SMTP not started: $smtp_why"
fi

port=$want_port
if ! port_free "$port"; then
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    port_free "$port" && break
  done
  say "port $want_port is taken; using $port"
fi

say "starting eas-fcgi"
EAS_FCGI_BIN=$bin "$top/deploy/local/eas-fcgi.sh" start "$state/eas-fcgi" \
  server.workers=0 server.threads=16 \
  auth.imap_host="$imap_host" auth.imap_port="$imap_port" auth.default_domain=$domain \
  autodiscover.mobilesync_url="http://127.0.0.1:$port/Microsoft-Server-ActiveSync" \
  autodiscover.domains=$domain \
  "autodiscover.protocol.imap=IMAP 127.0.0.1 $imap_port %u off" \
  store.url="sqlite:$state/eas-fcgi/eas.db" ${smtp_port:+smtp.port=$smtp_port}
sock=$(sed -n 's/^EAS_FCGI_SOCKET=//p' "$state/eas-fcgi/env")

say "starting nginx on 127.0.0.1:$port"
"$top/deploy/local/nginx.sh" start "$state/nginx" "unix:$sock" "$port"

# A first request proves the chain device -> nginx -> eas-fcgi -> Dovecot.
first=$(head -n1 "$state/users")
code=$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -u "$first" "http://127.0.0.1:$port/Microsoft-Server-ActiveSync" || true)
if [ "$code" = 200 ]; then
  say "OPTIONS as ${first%%:*}: HTTP 200"
else
  say "WARNING: OPTIONS as ${first%%:*} answered HTTP $code (see $state/eas-fcgi/eas-fcgi.log)"
fi
ad_body='<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><EMailAddress>'"${first%%:*}"'</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema></Request></Autodiscover>'
ad=$(curl -s -X POST -u "$first" -H 'Content-Type: text/xml' --data "$ad_body" \
  "http://127.0.0.1:$port/autodiscover/autodiscover.xml" || true)
if [[ $ad == *"<Type>MobileSync</Type>"* ]]; then
  say "Autodiscover as ${first%%:*}: MobileSync URL answered"
else
  say "WARNING: Autodiscover as ${first%%:*} did not answer the MobileSync URL"
fi
print_summary
