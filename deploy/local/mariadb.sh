#!/usr/bin/env bash
# A private MariaDB for the tests, the benchmarks and the quick-start.
#
#   mariadb.sh start <base-dir>
#   mariadb.sh stop  <base-dir>
#
# start initialises a fresh datadir under <base-dir> with mariadb-install-db,
# starts mariadbd (setsid, stdio to <base-dir>/mariadbd.log) on 127.0.0.1 with
# a free port of its own and a unix socket <base-dir>/mysqld.sock, creates the
# database eas_test and the user eas (all rights on databases eas_*), and
# writes <base-dir>/env, one KEY=VALUE a line:
#   EAS_TEST_MYSQL_URL=mysql://eas:PASS@127.0.0.1:PORT/eas_test
#   EAS_TEST_MYSQL_SOCKET_URL=mysql://eas:PASS@localhost/eas_test?socket=SOCK
#   EAS_TEST_MYSQL_PORT, EAS_TEST_MYSQL_SOCKET, EAS_TEST_MYSQL_USER,
#   EAS_TEST_MYSQL_PASSWORD, EAS_TEST_MYSQL_ADMIN_CNF (a client defaults file
#   for root over the socket: `mariadb --defaults-file=...`)
# The env file appears only once the server answers; stop removes it.
#
# stop sends TERM to the pid in the pid file (then KILL after 30 s); never a
# process name.
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
. "$(dirname "$0")/lib.sh"

die() { echo "mariadb.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: mariadb.sh start|stop <base-dir>"
cmd=$1
base=$2
mkdir -p "$base"
base=$(cd "$base" && pwd)
cnf=$base/my.cnf
admin_cnf=$base/admin.cnf
pidfile=$base/mariadbd.pid
sock=$base/mysqld.sock
datadir=$base/data

stop() {
  rm -f "$base/env"
  if pid_alive; then
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    echo "mariadb.sh: stopped (pid $pid)"
  else
    echo "mariadb.sh: not running"
  fi
  rm -f "$pidfile"
}

start() {
  if pid_alive; then
    stop
  fi
  command -v mariadbd >/dev/null || command -v /usr/sbin/mariadbd >/dev/null ||
    die "mariadbd not installed (deploy/install-deps.sh)"
  local mariadbd
  mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)

  rm -rf "$datadir" "$base/tmp" "$base/env" "$sock"
  mkdir -p "$datadir" "$base/tmp"
  local port password user
  port=$(free_port) || die "no free port"
  password="eas-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  user=$(id -un)

  cat >"$cnf" <<CNF
[mysqld]
user=$user
datadir=$datadir
tmpdir=$base/tmp
socket=$sock
pid-file=$pidfile
port=$port
bind-address=127.0.0.1
skip-name-resolve
log-error=$base/mariadbd.err
innodb_buffer_pool_size=128M
innodb_log_file_size=64M
# A test server: durable against a killed mariadbd, not against a power cut.
innodb_flush_log_at_trx_commit=2
max_connections=300
max_allowed_packet=64M
character-set-server=utf8mb4
CNF
  cat >"$admin_cnf" <<CNF
[client]
user=root
socket=$sock
CNF

  mariadb-install-db --defaults-file="$cnf" --auth-root-authentication-method=socket \
    --skip-test-db >"$base/install-db.log" 2>&1 ||
    { cat "$base/install-db.log" >&2; die "mariadb-install-db failed"; }

  setsid "$mariadbd" --defaults-file="$cnf" </dev/null >"$base/mariadbd.log" 2>&1 &

  local up=0
  for _ in $(seq 1 300); do
    if mariadb-admin --defaults-file="$admin_cnf" ping >/dev/null 2>&1; then
      up=1
      break
    fi
    sleep 0.1
  done
  [ $up -eq 1 ] || { tail -n 30 "$base/mariadbd.err" >&2 || true; die "mariadbd did not come up"; }

  mariadb --defaults-file="$admin_cnf" <<SQL || die "creating database and user failed"
CREATE DATABASE IF NOT EXISTS eas_test;
CREATE USER IF NOT EXISTS 'eas'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS 'eas'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON \`eas\\_%\`.* TO 'eas'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`eas\\_%\`.* TO 'eas'@'localhost';
FLUSH PRIVILEGES;
SQL

  cat >"$base/env.tmp" <<ENV
EAS_TEST_MYSQL_URL=mysql://eas:$password@127.0.0.1:$port/eas_test
EAS_TEST_MYSQL_SOCKET_URL=mysql://eas:$password@localhost/eas_test?socket=$sock
EAS_TEST_MYSQL_PORT=$port
EAS_TEST_MYSQL_SOCKET=$sock
EAS_TEST_MYSQL_USER=eas
EAS_TEST_MYSQL_PASSWORD=$password
EAS_TEST_MYSQL_ADMIN_CNF=$admin_cnf
ENV
  mv "$base/env.tmp" "$base/env"
  echo "mariadb.sh: running (pid $(cat "$pidfile"), 127.0.0.1:$port, socket $sock)"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) die "unknown command '$cmd' (start|stop)" ;;
esac
