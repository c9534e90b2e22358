#!/usr/bin/env bash
# `make cluster` / `make cluster-stop`: the whole system on one machine, all on loopback —
# Debian's PostgreSQL (its own database), a Redis for the job queue, two gunicorn app servers
# on 127.0.0.1:5001 and :5002 sharing the database and the file store, a job worker, and nginx
# on 127.0.0.1:8080 balancing both (a request that cannot reach one server goes to the other).
# Redis and nginx run as the current user with config files under instance/cluster/; no
# system service is touched. The settings used are in instance/cluster.env, so
#   env $(cat instance/cluster.env) .venv/bin/flask --app wsgi …
# runs any CLI command against the cluster. Process ids: instance/cluster/*.pid.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/.venv/bin}
DIR=$ROOT/instance/cluster
ENV_FILE=$ROOT/instance/cluster.env
DB_NAME=${CLUSTER_DB:-docmgmt_cluster}
DB_USER=${CLUSTER_DB_USER:-docmgmt}
DB_PASSWORD=${CLUSTER_DB_PASSWORD:-docmgmt}
PG_PORT=${CLUSTER_PG_PORT:-5432}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6380}
NGINX_PORT=${CLUSTER_NGINX_PORT:-8080}
APP_PORTS=(5001 5002)
APP_WORKERS=${CLUSTER_APP_WORKERS:-2}

say() { echo "cluster: $*"; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_pidfile() {  # stop_pidfile FILE NAME: SIGTERM, wait up to 15 s, then SIGKILL
  local f=$1 name=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    say "stopped $name ($pid)"
  fi
  rm -f "$f"
}

wait_http() {  # wait_http URL SECONDS
  local url=$1 n=$(( $2 * 5 ))
  for _ in $(seq "$n"); do
    if "$BIN/python" - "$url" <<'EOF' 2>/dev/null; then return 0; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
EOF
    sleep 0.2
  done
  echo "cluster: $url did not answer" >&2
  return 1
}

psql_admin() {  # runs SQL as PostgreSQL's superuser (root: through su, as .ci/run does)
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "psql -q -p $PG_PORT -v ON_ERROR_STOP=1 -c \"$1\""
  else
    sudo -n -u postgres psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 -c "$1"
  fi
}

database() {
  local url="postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
  if ! "$BIN/python" -c "import psycopg, sys; psycopg.connect(sys.argv[1]).close()" "$url" 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null; then
      PG_VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
      pg_lsclusters -h 2>/dev/null | grep -q "online" || pg_ctlcluster "$PG_VERSION" main start || true
    fi
    say "creating database $DB_NAME (owner $DB_USER)"
    psql_admin "DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='$DB_USER') THEN CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'; END IF; END\\\$\\\$;"
    psql_admin "CREATE DATABASE $DB_NAME OWNER $DB_USER" || true
  fi
  echo "$url"
}

write_env() {
  local url=$1 key
  # The secret key is made once and kept: sessions stay valid across restarts.
  if [ -f "$ENV_FILE" ] && grep -q '^SECRET_KEY=' "$ENV_FILE"; then
    key=$(grep '^SECRET_KEY=' "$ENV_FILE" | cut -d= -f2-)
  else
    key=$("$BIN/python" -c "import secrets; print(secrets.token_hex(32))")
  fi
  umask 077
  cat >"$ENV_FILE" <<EOF
DOCMGMT_ENV=development
SECRET_KEY=$key
DATABASE_URL=$url
DOCMGMT_STORAGE_DIR=$DIR/storage
DOCMGMT_QUEUE_URL=redis://127.0.0.1:$REDIS_PORT/0
DOCMGMT_SEARCH_BACKEND=postgres
DOCMGMT_PROXY_FIX=1
DOCMGMT_JOB_LEASE_SECONDS=${CLUSTER_JOB_LEASE:-20}
PYTHONPATH=$ROOT
EOF
  umask 022
}

redis() {
  alive "$DIR/redis.pid" && return 0
  command -v redis-server >/dev/null || { echo "cluster: apt-get install redis-server" >&2; exit 1; }
  cat >"$DIR/redis.conf" <<EOF
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile $DIR/redis.pid
logfile $DIR/redis.log
dir $DIR
dbfilename redis.rdb
appendonly yes
appendfilename redis.aof
EOF
  redis-server "$DIR/redis.conf"
  for _ in $(seq 50); do alive "$DIR/redis.pid" && break; sleep 0.1; done
  say "redis on 127.0.0.1:$REDIS_PORT ($(cat "$DIR/redis.pid"))"
}

app_server() {
  local port=$1
  alive "$DIR/app-$port.pid" && return 0
  (cd "$ROOT" && env $(cat "$ENV_FILE") "$BIN/gunicorn" --workers "$APP_WORKERS" \
    --bind "127.0.0.1:$port" --pid "$DIR/app-$port.pid" --daemon \
    --access-logfile "$DIR/app-$port.access.log" --error-logfile "$DIR/app-$port.log" \
    --graceful-timeout 5 wsgi:app)
  wait_http "http://127.0.0.1:$port/healthz" 60
  say "app server on 127.0.0.1:$port ($(cat "$DIR/app-$port.pid"))"
}

worker() {
  alive "$DIR/worker.pid" && return 0
  # Started in a session of its own, detached from this shell; the pid file holds its pid.
  (cd "$ROOT" && env $(cat "$ENV_FILE") "$BIN/python" -c '
import subprocess, sys
flask, d = sys.argv[1], sys.argv[2]
p = subprocess.Popen(
    [flask, "--app", "wsgi", "jobs", "worker", "--threads", "2"],
    stdin=subprocess.DEVNULL, stdout=open(d + "/worker.log", "ab"),
    stderr=subprocess.STDOUT, start_new_session=True,
)
open(d + "/worker.pid", "w").write(str(p.pid) + "\n")
' "$BIN/flask" "$DIR")
  sleep 2
  alive "$DIR/worker.pid" || { tail -20 "$DIR/worker.log" >&2; exit 1; }
  say "job worker ($(cat "$DIR/worker.pid"))"
}

nginx_proxy() {
  if alive "$DIR/nginx.pid"; then
    [ "${1:-}" = reload ] || return 0
  fi
  command -v nginx >/dev/null || { echo "cluster: apt-get install nginx" >&2; exit 1; }
  mkdir -p "$DIR/nginx-tmp"
  local user_line=""
  [ "$(id -u)" = 0 ] && user_line="user root root;"
  cat >"$DIR/nginx.conf" <<EOF
$user_line
worker_processes 2;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log $DIR/nginx-access.log;
  client_body_temp_path $DIR/nginx-tmp/body;
  proxy_temp_path $DIR/nginx-tmp/proxy;
  fastcgi_temp_path $DIR/nginx-tmp/fastcgi;
  uwsgi_temp_path $DIR/nginx-tmp/uwsgi;
  scgi_temp_path $DIR/nginx-tmp/scgi;
  client_max_body_size 30m;
  upstream docmgmt {
$(for p in ${CLUSTER_UPSTREAMS:-${APP_PORTS[*]}}; do echo "    server 127.0.0.1:$p max_fails=1 fail_timeout=5s;"; done)
    keepalive 16;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      proxy_pass http://docmgmt;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host:\$server_port;
      # A server that refuses the connection or fails before answering: the request goes to
      # the other one. Never for a POST that may have reached a server (nginx's default).
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
      proxy_connect_timeout 2s;
      proxy_read_timeout 120s;
    }
  }
}
EOF
  if [ "${1:-}" = reload ] && alive "$DIR/nginx.pid"; then
    nginx -c "$DIR/nginx.conf" -p "$DIR/" -e "$DIR/nginx-error.log" -s reload
    sleep 1
  else
    nginx -c "$DIR/nginx.conf" -p "$DIR/" -e "$DIR/nginx-error.log"
  fi
  for _ in $(seq 50); do alive "$DIR/nginx.pid" && break; sleep 0.1; done
  wait_http "http://127.0.0.1:$NGINX_PORT/healthz" 20
  say "nginx on 127.0.0.1:$NGINX_PORT ($(cat "$DIR/nginx.pid"))"
}

start() {
  mkdir -p "$DIR" "$DIR/storage"
  write_env "$(database)"
  redis
  say "database: migrating and loading the demo (if empty)"
  (cd "$ROOT" && env $(cat "$ENV_FILE") "$BIN/flask" --app wsgi db upgrade heads >/dev/null)
  (cd "$ROOT" && env $(cat "$ENV_FILE") "$BIN/flask" --app wsgi demo load --if-empty)
  (cd "$ROOT" && env $(cat "$ENV_FILE") "$BIN/flask" --app wsgi search check --fix >/dev/null)
  for port in "${APP_PORTS[@]}"; do app_server "$port"; done
  worker
  nginx_proxy
  say "up: http://127.0.0.1:$NGINX_PORT  (settings: instance/cluster.env; stop: make cluster-stop)"
}

stop() {
  stop_pidfile "$DIR/nginx.pid" nginx
  for port in "${APP_PORTS[@]}"; do stop_pidfile "$DIR/app-$port.pid" "app server $port"; done
  stop_pidfile "$DIR/worker.pid" "job worker"
  stop_pidfile "$DIR/redis.pid" redis
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  worker) worker ;;           # (re)start the worker alone (the cluster test uses it)
  app) app_server "$2" ;;     # (re)start one app server
  nginx) nginx_proxy reload ;; # rewrite nginx's config (CLUSTER_UPSTREAMS="5001": one server)
  *) echo "usage: $0 start|stop|worker|app PORT|nginx" >&2; exit 2 ;;
esac
