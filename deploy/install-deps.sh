#!/usr/bin/env bash
# Installs every Debian 12 package the build, the tests and the local server
# need. Idempotent: packages already present are left as they are.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

PACKAGES=(
  # build
  build-essential cmake pkg-config git ca-certificates
  clang libclang-rt-14-dev            # libFuzzer targets, sanitizers with clang
  llvm                                # llvm-symbolizer: readable sanitizer stacks, suppressions by function
  libfcgi-dev libpoco-dev libmysqlcppconn-dev libexpat1-dev libssl-dev
  libsqlite3-dev sqlite3 catch2
  libetpan-dev libgmime-3.0-dev libical-dev
  # real servers used by the tests and the quick-start
  nginx apache2 mariadb-server mariadb-client
  dovecot-imapd dovecot-lmtpd postfix radicale
  lua-socket                          # UDP socket for the Dovecot push_notification Lua script (deploy/dovecot)
  # codec oracle and benchmark peer
  libwbxml2-utils libwbxml2-dev
  # tools the scripts use
  wrk curl python3 procps spawn-fcgi openssl iproute2
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
# Postfix asks questions at install time; answer them for a loopback-only setup.
echo "postfix postfix/main_mailer_type select Local only" | $SUDO debconf-set-selections
echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
# The packages' own services are not used (the scripts start their own
# daemons from project configs); on machines with an init they may have
# started: leave them be, our ports and sockets are our own.
