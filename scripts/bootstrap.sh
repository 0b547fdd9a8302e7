#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a fresh machine:
# Debian packages, the Python virtualenv, the npm packages and a Redis server;
# with PUSHER_DJANGO_POSTGRES=1, PUSHER_DJANGO_MARIADB=1 or PUSHER_DJANGO_RABBITMQ=1 also
# the server the matrix needs (the one that answers, else Debian's, installed and started).
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_port() {  # port, seconds
  for _ in $(seq $(($2 * 5))); do port_open "$1" && return 0; sleep 0.2; done
  log "nothing answers on 127.0.0.1:$1 after $2 s" >&2
  return 1
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
  fi
}

command -v node >/dev/null 2>&1 || apt_install nodejs npm
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
if [ "${PUSHER_DJANGO_BROWSER:-0}" = "1" ]; then
  apt_install chromium chromium-driver
fi

if [ "${PUSHER_DJANGO_POSTGRES:-0}" = "1" ]; then
  # The tests also run on PostgreSQL: use the one that answers, else install and start one.
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    apt_install postgresql
    version=$(ls /etc/postgresql | sort -V | tail -1)
    log "starting PostgreSQL $version on 127.0.0.1:5432"
    pg_ctlcluster "$version" main start || true
    for _ in $(seq 100); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -c "select 1" >/dev/null 2>&1; then
    # A packaged server asks for a password on TCP: give postgres the one the tests use.
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  fi
fi

if [ "${PUSHER_DJANGO_MARIADB:-0}" = "1" ]; then
  # The suite also runs on MariaDB (root without a password on 127.0.0.1, as on this machine kind).
  if ! port_open 3306; then
    apt_install mariadb-server
    log "starting MariaDB on 127.0.0.1:3306"
    $SUDO service mariadb start >/dev/null
    wait_for_port 3306 60
  fi
  if command -v mariadb >/dev/null 2>&1 \
     && ! mariadb -h 127.0.0.1 -u root -e "select 1" >/dev/null 2>&1; then
    # A packaged server lets root in through its socket only: open TCP from 127.0.0.1.
    $SUDO mariadb -u root -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
  fi
fi

if [ "${PUSHER_DJANGO_RABBITMQ:-0}" = "1" ] && ! port_open 5672; then
  # The Celery tests also run with RabbitMQ as the broker (guest/guest, local connections only).
  apt_install rabbitmq-server
  log "starting RabbitMQ on 127.0.0.1:5672"
  $SUDO service rabbitmq-server start >/dev/null
  timeout 120 $SUDO rabbitmqctl -q await_startup
  wait_for_port 5672 30
fi

# mysqlclient (MariaDB driver in requirements.txt) builds against these
apt_install libmariadb-dev pkg-config

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
# scripts/demo.sh asks for requirements-demo.txt: what the demo runs, no test tools.
REQUIREMENTS="${PUSHER_DJANGO_REQUIREMENTS:-requirements.txt}"
stamp=".venv/.installed-$(basename "$REQUIREMENTS")"
if [ ! -f "$stamp" ] || ! cat "$REQUIREMENTS" requirements-demo.txt | cmp -s - "$stamp"; then
  log "installing Python packages ($REQUIREMENTS)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$REQUIREMENTS"
  .venv/bin/pip install -q --no-deps -e .
  cat "$REQUIREMENTS" requirements-demo.txt > "$stamp"
fi

if [ ! -d node_modules/@soketi/soketi ] || [ ! -d node_modules/pusher-js ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (soketi, pusher-js)"
  npm ci --no-audit --no-fund --loglevel=error
fi

REDIS_PORT="${REDIS_PORT:-6379}"
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  log "starting redis-server on 127.0.0.1:$REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no
  for _ in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
log "ready"
