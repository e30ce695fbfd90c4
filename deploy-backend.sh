#!/usr/bin/env bash
# deploy-backend.sh: run the alchm.kitchen fleet natively on one machine, behind its own NGINX gateway.
#
#   ./deploy-backend.sh              set up and start (idempotent: healthy processes are left alone)
#   ./deploy-backend.sh --status     pid, port, /health and /ready of every service and of the gateway
#   ./deploy-backend.sh --stop       stop everything this script started (pid files), check the ports are free
#   ./deploy-backend.sh --restart    --stop, then start
#
# Start: creates .venv when missing (Python 3.11+), installs the project (again only when pyproject.toml
# changed: a hash stamp), runs `alchm db upgrade` when that command exists, starts every service that is
# built (`alchm serve NAME --port P`, detached, pid files in $VAR/run, logs in $VAR/log/NAME.log), waits
# for each /ready, then renders the gateway config (scripts/render_nginx.py -> $VAR/nginx/nginx.conf) and
# runs NGINX with its own prefix ($VAR/nginx). The system NGINX is never touched.
#
# Running it again: a service whose process is alive, listens on the configured port and answers /health
# is left running (same pid); a dead or unhealthy one is restarted; the gateway is reloaded (not restarted)
# only when its rendered config changed. Code changes therefore need --restart.
#
# Environment (all optional; the embedded defaults need none):
#   ALCHM_BIND            address the services and the gateway listen on (127.0.0.1)
#   ALCHM_GATEWAY_PORT    gateway port (8080)
#   ALCHM_CORE_PORT ALCHM_KITCHEN_PORT ALCHM_REALTIME_PORT ALCHM_RUNE_PORT ALCHM_ANALYTICS_PORT
#                         service ports (8000 8100 8001 8002 8003)
#   ALCHM_VAR_DIR         state directory: run/, log/, nginx/, the SQLite database (./var)
#   ALCHM_VENV            virtualenv to create/use (./.venv)
#   ALCHM_SKIP_INSTALL=1  use the virtualenv as it is (no venv creation, no pip)
#   ALCHM_READY_TIMEOUT   seconds to wait for each service's /ready (60)
#   PYTHON                interpreter used to create the virtualenv (python3.12, python3.11 or python3)
#   ALCHM_DATABASE_URL, ALCHM_REDIS_URL and every other ALCHM_* setting are passed to the services.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

log() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

BIND=${ALCHM_BIND:-127.0.0.1}
GATEWAY_PORT=${ALCHM_GATEWAY_PORT:-8080}
READY_TIMEOUT=${ALCHM_READY_TIMEOUT:-60}
VENV=${ALCHM_VENV:-$ROOT/.venv}
mkdir -p "${ALCHM_VAR_DIR:-$ROOT/var}"
VAR_DIR=$(cd "${ALCHM_VAR_DIR:-$ROOT/var}" && pwd)
export ALCHM_VAR_DIR=$VAR_DIR
RUN_DIR=$VAR_DIR/run
LOG_DIR=$VAR_DIR/log
NGINX_DIR=$VAR_DIR/nginx
NGINX_CONF=$NGINX_DIR/nginx.conf
NGINX_PID=$NGINX_DIR/nginx.pid
# Probes and upstreams use loopback when the fleet listens on every address; IPv6 literals get brackets.
case "$BIND" in
  0.0.0.0 | '' | '*') PROBE_HOST=127.0.0.1 ;;
  :: | '[::]') PROBE_HOST='[::1]' ;;
  \[*) PROBE_HOST=$BIND ;;
  *:*) PROBE_HOST="[$BIND]" ;;
  *) PROBE_HOST=$BIND ;;
esac
case "$BIND" in
  '' | '*') LISTEN_HOST=0.0.0.0 ;;
  \[*) LISTEN_HOST=$BIND ;;
  *:*) LISTEN_HOST="[$BIND]" ;;
  *) LISTEN_HOST=$BIND ;;
esac
SERVE_HOST=${LISTEN_HOST//[\[\]]/}

# A small stdlib-only HTTP prober (no curl needed; proxies ignored).
PROBE_PY='
import os, sys, time, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(url, timeout=2.0):
    try:
        with opener.open(url, timeout=timeout) as r:
            return r.status, r.read(300).decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read(300).decode("utf-8", "replace")
    except Exception as e:
        return 0, type(e).__name__
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
mode, url = sys.argv[1], sys.argv[2]
if mode == "get":
    code, body = get(url)
    print(code, " ".join(body.split())[:200])
    sys.exit(0 if code == 200 else 1)
timeout, pid = float(sys.argv[3]), int(sys.argv[4] or 0)
deadline = time.monotonic() + timeout
while True:
    code, body = get(url)
    if code == 200:
        sys.exit(0)
    if pid and not alive(pid):
        print(f"process {pid} exited (last answer: {code} {body[:120]})")
        sys.exit(2)
    if time.monotonic() > deadline:
        print(f"no 200 from {url} within {timeout:g}s (last answer: {code} {body[:120]})")
        sys.exit(1)
    time.sleep(0.2)
'

usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# ------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------
py() {
  if [ -x "$VENV/bin/python" ]; then "$VENV/bin/python" "$@"; else python3 "$@"; fi
}

http_get() { py -c "$PROBE_PY" get "$1"; }
wait_http() { py -c "$PROBE_PY" wait "$1" "$2" "${3:-0}"; }

# port_in_use PORT: something accepts connections on the probe host.
port_in_use() { (exec 3<>"/dev/tcp/${PROBE_HOST//[\[\]]/}/$1") 2>/dev/null; }

# Environment variable stems per service (ALCHM_<STEM>_PORT, ALCHM_<STEM>_URL).
stem_of() {
  case "$1" in
    alchemical-core) echo CORE ;;
    kitchen-intelligence) echo KITCHEN ;;
    *) echo "$1" | tr '[:lower:]-' '[:upper:]_' ;;
  esac
}

port_of() {
  local var
  var="ALCHM_$(stem_of "$1")_PORT"
  echo "${!var:-$2}"
}

# pid_alive PID PATTERN: the process exists, is not a zombie, and its command line matches PATTERN.
pid_alive() {
  local pid=$1 pattern=$2 cmdline
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [ -n "$cmdline" ] || return 1 # zombie
  # shellcheck disable=SC2053  # PATTERN is a glob on purpose
  [[ $cmdline == $pattern ]]
}

read_file() { if [ -f "$1" ]; then cat "$1"; fi; }

service_pattern() { echo "*alchm serve $1 *"; }

# Print "name default_port present" for every service of shared.cli.SERVICES (present: 1/0).
SERVICES_PY='
from shared.cli import SERVICES
for e in SERVICES.values():
    try:
        present = e.exists()
    except ImportError:  # a missing parent package raises instead of returning None
        present = False
    print(e.name, e.port, 1 if present else 0)
'
SERVICE_TABLE=""
load_services() {
  SERVICE_TABLE=$(py -c "$SERVICES_PY") || die "could not read the service list from shared.cli"
}

# ------------------------------------------------------------------------------------------------------
# setup: virtualenv, install, database
# ------------------------------------------------------------------------------------------------------
find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [ "${ALCHM_SKIP_INSTALL:-0}" = 1 ]; then
    [ -x "$VENV/bin/alchm" ] || die "ALCHM_SKIP_INSTALL=1 but $VENV/bin/alchm does not exist"
    note "ALCHM_SKIP_INSTALL=1: using $VENV as it is"
    return 0
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    local python
    python=$(find_python) || die "Python 3.11+ is needed (apt-get install python3 python3-venv)"
    log "creating $VENV with $python"
    if ! "$python" -m venv "$VENV"; then
      if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "apt-get install python3-venv"
        rm -rf "$VENV"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        "$python" -m venv "$VENV"
      else
        die "python -m venv failed: install python3-venv (sudo apt-get install python3-venv)"
      fi
    fi
  fi
  local stamp="$VENV/.alchm-deploy-installed" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -x "$VENV/bin/alchm" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing the project into $VENV (pip install -e .)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e .
    echo "$want" >"$stamp"
  else
    note "project already installed (pyproject.toml unchanged)"
  fi
}

# One development JWT secret for the whole fleet, kept across restarts: a token issued by
# alchemical-core must verify in every other service (each would otherwise generate its own).
ensure_dev_secret() {
  if [ -n "${ALCHM_JWT_SECRET:-}" ]; then
    return 0
  fi
  local file="$VAR_DIR/jwt_secret"
  if [ ! -s "$file" ]; then
    (umask 077 && py -c 'import secrets; print(secrets.token_urlsafe(48))' >"$file")
    note "generated a development JWT secret in $file (set ALCHM_JWT_SECRET to use your own)"
  fi
  ALCHM_JWT_SECRET=$(cat "$file")
  export ALCHM_JWT_SECRET
}

migrate_database() {
  local out rc=0
  out=$("$VENV/bin/alchm" db upgrade 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then
    log "database: alchm db upgrade"
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
  elif [[ $out == *"invalid choice: 'db'"* ]]; then
    note "database: 'alchm db upgrade' is not available in this build; migrations skipped"
  else
    printf '%s\n' "$out" >&2
    die "alchm db upgrade failed (exit $rc)"
  fi
}

# ------------------------------------------------------------------------------------------------------
# services
# ------------------------------------------------------------------------------------------------------
STARTED=()

start_service() {
  local name=$1 port=$2 logfile="$LOG_DIR/$1.log"
  printf '\n==== %s start %s (port %s)\n' "$(date -u +%FT%TZ)" "$name" "$port" >>"$logfile"
  (
    exec 9>&- # the deploy lock must not outlive this script
    if [ "$name" = realtime ]; then
      # WebSockets: one descriptor per connection; the default 1024 silently caps the hub.
      ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    fi
    exec setsid nohup "$VENV/bin/alchm" serve "$name" --host "$SERVE_HOST" --port "$port" </dev/null >>"$logfile" 2>&1
  ) &
  local pid=$!
  echo "$pid" >"$RUN_DIR/$name.pid"
  echo "$port" >"$RUN_DIR/$name.port"
  STARTED+=("$name")
  note "$name: started (pid $pid, port $port, log $logfile)"
}

# stop_pid NAME PIDFILE PATTERN SIGNAL: stop a process we started; waits, then SIGKILL.
stop_pid() {
  local name=$1 pidfile=$2 pattern=$3 sig=$4 pid i
  pid=$(read_file "$pidfile")
  if pid_alive "$pid" "$pattern"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 75); do
      pid_alive "$pid" "$pattern" || break
      sleep 0.2
    done
    if pid_alive "$pid" "$pattern"; then
      warn "$name (pid $pid) did not stop in 15 s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    note "$name: stopped (pid $pid)"
  elif [ -n "$pid" ]; then
    note "$name: not running (stale pid file removed)"
  fi
  rm -f "$pidfile"
}

# check_port_owner NAME PORT: the port is free, or held by the NAME process this script started.
check_port_owner() {
  local name=$1 port=$2
  if pid_alive "$(read_file "$RUN_DIR/$name.pid")" "$(service_pattern "$name")" &&
    [ "$(read_file "$RUN_DIR/$name.port")" = "$port" ]; then
    return 0
  fi
  if port_in_use "$port"; then
    die "port $port for $name is in use by a process this script did not start; stop it or set ALCHM_$(stem_of "$name")_PORT"
  fi
}

ensure_service() {
  local name=$1 port=$2 pidfile="$RUN_DIR/$1.pid" pid old_port
  pid=$(read_file "$pidfile")
  old_port=$(read_file "$RUN_DIR/$name.port")
  if pid_alive "$pid" "$(service_pattern "$name")"; then
    if [ "$old_port" = "$port" ] && http_get "http://$PROBE_HOST:$port/health" >/dev/null; then
      note "$name: already running and healthy (pid $pid, port $port): left alone"
      return 0
    fi
    note "$name: running (pid $pid) but unhealthy or on another port ($old_port): restarting"
    stop_pid "$name" "$pidfile" "$(service_pattern "$name")" TERM
  else
    rm -f "$pidfile"
  fi
  if port_in_use "$port"; then
    die "port $port for $name is in use by a process this script did not start; stop it or set ALCHM_$(stem_of "$name")_PORT"
  fi
  start_service "$name" "$port"
}

wait_service() {
  local name=$1 port=$2 pid out
  pid=$(read_file "$RUN_DIR/$name.pid")
  if out=$(wait_http "http://$PROBE_HOST:$port/ready" "$READY_TIMEOUT" "$pid"); then
    note "$name: ready (http://$PROBE_HOST:$port)"
    return 0
  fi
  warn "$name is not ready: $out"
  printf -- '---- last lines of %s ----\n' "$LOG_DIR/$name.log" >&2
  tail -n 40 "$LOG_DIR/$name.log" >&2 || true
  printf -- '----\n' >&2
  if pid_alive "$pid" "$(service_pattern "$name")"; then
    stop_pid "$name" "$RUN_DIR/$name.pid" "$(service_pattern "$name")" TERM
  fi
  rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.port"
  return 1
}

# ------------------------------------------------------------------------------------------------------
# gateway
# ------------------------------------------------------------------------------------------------------
find_nginx() {
  command -v nginx 2>/dev/null && return 0
  local candidate
  for candidate in /usr/sbin/nginx /usr/local/sbin/nginx /usr/local/nginx/sbin/nginx; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_nginx() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  log "installing nginx-light (apt-get; the system nginx service is not started)"
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  local rc=0
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; } || rc=$?
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  return "$rc"
}

gateway_pattern() { echo "nginx: master process * -p $NGINX_DIR *"; }

ensure_gateway() {
  local nginx
  if ! nginx=$(find_nginx); then
    install_nginx || true
    if ! nginx=$(find_nginx); then
      warn "nginx is not installed: the gateway is not started (sudo apt-get install nginx-light, then run this again)"
      return 0
    fi
  fi
  mkdir -p "$NGINX_DIR/tmp" "$LOG_DIR"
  local -a upstreams=()
  local name default present port
  while read -r name default present; do
    local key
    key=$(stem_of "$name" | tr '[:upper:]_' '[:lower:]-')
    if [ "$present" = 1 ]; then
      port=$(port_of "$name" "$default")
      upstreams+=(--upstream "$key=${PROBE_HOST}:$port")
    else
      upstreams+=(--upstream "$key=")
    fi
  done <<<"$SERVICE_TABLE"
  py scripts/render_nginx.py --prefix "$NGINX_DIR" --listen "$LISTEN_HOST:$GATEWAY_PORT" \
    --error-log "$LOG_DIR/gateway.error.log" --access-log "$LOG_DIR/gateway.access.log" \
    "${upstreams[@]}" -o "$NGINX_CONF.new"
  local check
  if ! check=$("$nginx" -t -q -p "$NGINX_DIR" -c "$NGINX_CONF.new" -e "$LOG_DIR/gateway.error.log" 2>&1); then
    die "the rendered gateway config is rejected by nginx: $check"
  fi
  local pid
  pid=$(read_file "$NGINX_PID")
  if pid_alive "$pid" "$(gateway_pattern)"; then
    if [ "$(read_file "$RUN_DIR/gateway.port")" != "$GATEWAY_PORT" ]; then
      note "gateway: port changed: restarting"
      stop_pid gateway "$NGINX_PID" "$(gateway_pattern)" QUIT
    elif cmp -s "$NGINX_CONF.new" "$NGINX_CONF"; then
      rm -f "$NGINX_CONF.new"
      note "gateway: already running with the same config (pid $pid): left alone"
      wait_gateway
      return
    else
      mv "$NGINX_CONF.new" "$NGINX_CONF"
      kill -HUP "$pid"
      note "gateway: config changed: reloaded (pid $pid)"
      wait_gateway
      return
    fi
  fi
  rm -f "$NGINX_PID"
  if port_in_use "$GATEWAY_PORT"; then
    die "gateway port $GATEWAY_PORT is in use by a process this script did not start; set ALCHM_GATEWAY_PORT"
  fi
  mv "$NGINX_CONF.new" "$NGINX_CONF"
  # Daemon mode: the master forks away; its stdio must not keep our caller's pipes open.
  "$nginx" -p "$NGINX_DIR" -c "$NGINX_CONF" -e "$LOG_DIR/gateway.error.log" </dev/null >>"$LOG_DIR/gateway.out.log" 2>&1 9>&- ||
    die "nginx failed to start; see $LOG_DIR/gateway.out.log and $LOG_DIR/gateway.error.log"
  echo "$GATEWAY_PORT" >"$RUN_DIR/gateway.port"
  wait_gateway
  note "gateway: started (pid $(read_file "$NGINX_PID"), http://$PROBE_HOST:$GATEWAY_PORT)"
}

wait_gateway() {
  local out
  if ! out=$(wait_http "http://$PROBE_HOST:$GATEWAY_PORT/health" 10 "$(read_file "$NGINX_PID")"); then
    tail -n 20 "$LOG_DIR/gateway.error.log" >&2 || true
    die "gateway not answering: $out"
  fi
}

# ------------------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------------------
acquire_lock() {
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$NGINX_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$RUN_DIR/deploy.lock"
    flock -w 60 9 || die "another deploy-backend.sh is running on $VAR_DIR"
  fi
}

cmd_start() {
  acquire_lock
  log "alchm.kitchen fleet: state in $VAR_DIR"
  ensure_venv
  load_services
  # Service-to-service addresses follow the chosen ports (unless set explicitly).
  local name default present port url_var
  while read -r name default present; do
    port=$(port_of "$name" "$default")
    url_var="ALCHM_$(stem_of "$name")_URL"
    export "$url_var=${!url_var:-http://$PROBE_HOST:$port}"
  done <<<"$SERVICE_TABLE"
  local -a present_names=() present_ports=()
  while read -r name default present; do
    if [ "$present" = 1 ]; then
      present_names+=("$name")
      present_ports+=("$(port_of "$name" "$default")")
    fi
  done <<<"$SERVICE_TABLE"
  local i failed=0
  # Fail fast, before any work, when a port is held by a process this script did not start.
  for i in "${!present_names[@]}"; do
    check_port_owner "${present_names[$i]}" "${present_ports[$i]}"
  done
  if ! pid_alive "$(read_file "$NGINX_PID")" "$(gateway_pattern)" && port_in_use "$GATEWAY_PORT"; then
    die "gateway port $GATEWAY_PORT is in use by a process this script did not start; set ALCHM_GATEWAY_PORT"
  fi
  ensure_dev_secret
  migrate_database

  log "services"
  while read -r name default present; do
    [ "$present" = 1 ] || note "$name: not built yet (skipped)"
  done <<<"$SERVICE_TABLE"
  if [ ${#present_names[@]} -eq 0 ]; then
    warn "no service is built yet (no services/<name>/main.py): nothing to start"
  fi
  for i in "${!present_names[@]}"; do
    ensure_service "${present_names[$i]}" "${present_ports[$i]}"
  done
  for i in "${!present_names[@]}"; do
    wait_service "${present_names[$i]}" "${present_ports[$i]}" || failed=1
  done
  if [ "$failed" -ne 0 ]; then
    die "some services did not become ready (logs in $LOG_DIR); the others keep running: ./deploy-backend.sh --stop"
  fi

  log "gateway"
  ensure_gateway

  log "ready"
  if [ -f "$RUN_DIR/gateway.port" ] && pid_alive "$(read_file "$NGINX_PID")" "$(gateway_pattern)"; then
    printf '  %-22s http://%s:%s/   (health: /health; routes: /api/alchemical/ /api/auth/ /api/kitchen/ /api/runes/ /api/analytics/ /ws/)\n' \
      gateway "$PROBE_HOST" "$GATEWAY_PORT"
  fi
  for i in "${!present_names[@]}"; do
    printf '  %-22s http://%s:%s/   docs: http://%s:%s/docs\n' "${present_names[$i]}" \
      "$PROBE_HOST" "${present_ports[$i]}" "$PROBE_HOST" "${present_ports[$i]}"
  done
  printf '  %-22s %s\n' logs "$LOG_DIR" "status / stop" "$0 --status | --stop"
}

cmd_status() {
  local rc=0 name default present port pid health ready
  if [ -x "$VENV/bin/python" ] || command -v python3 >/dev/null 2>&1; then
    load_services
  fi
  printf '%-22s %-8s %-6s %-8s %s\n' SERVICE PID PORT HEALTH READY
  while read -r name default present; do
    [ -n "$name" ] || continue
    pid=$(read_file "$RUN_DIR/$name.pid")
    port=$(read_file "$RUN_DIR/$name.port")
    [ -n "$port" ] || port=$(port_of "$name" "$default")
    if pid_alive "$pid" "$(service_pattern "$name")"; then
      health=$(http_get "http://$PROBE_HOST:$port/health" | cut -d' ' -f1) || true
      ready=$(http_get "http://$PROBE_HOST:$port/ready" | cut -d' ' -f1) || true
      [ "$health" = 200 ] || rc=3
      printf '%-22s %-8s %-6s %-8s %s\n' "$name" "$pid" "$port" "$health" "$ready"
    elif [ "$present" = 1 ]; then
      rc=3
      printf '%-22s %-8s %-6s %-8s %s\n' "$name" - "$port" down "- (not running)"
    else
      printf '%-22s %-8s %-6s %-8s %s\n' "$name" - "$port" - "- (not built)"
    fi
  done <<<"$SERVICE_TABLE"
  pid=$(read_file "$NGINX_PID")
  port=$(read_file "$RUN_DIR/gateway.port")
  if pid_alive "$pid" "$(gateway_pattern)"; then
    health=$(http_get "http://$PROBE_HOST:$port/health" | cut -d' ' -f1) || true
    [ "$health" = 200 ] || rc=3
    printf '%-22s %-8s %-6s %-8s %s\n' gateway "$pid" "$port" "$health" -
  else
    rc=3
    printf '%-22s %-8s %-6s %-8s %s\n' gateway - "${port:-$GATEWAY_PORT}" down "- (not running)"
  fi
  return "$rc"
}

cmd_stop() {
  acquire_lock
  log "stopping the fleet in $VAR_DIR"
  local -a ports=()
  local port
  port=$(read_file "$RUN_DIR/gateway.port")
  [ -z "$port" ] || ports+=("$port")
  stop_pid gateway "$NGINX_PID" "$(gateway_pattern)" QUIT
  rm -f "$RUN_DIR/gateway.port"
  local pidfile name
  for pidfile in "$RUN_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    port=$(read_file "$RUN_DIR/$name.port")
    [ -z "$port" ] || ports+=("$port")
    stop_pid "$name" "$pidfile" "$(service_pattern "$name")" TERM
    rm -f "$RUN_DIR/$name.port"
  done
  local busy=()
  for port in "${ports[@]}"; do
    if port_in_use "$port"; then busy+=("$port"); fi
  done
  if [ ${#busy[@]} -gt 0 ]; then
    die "ports still in use after stopping: ${busy[*]}"
  fi
  note "all stopped; ports free: ${ports[*]:-(none recorded)}"
}

main() {
  local command=start
  case "${1:-}" in
    '' | --start | start) command=start ;;
    --stop | stop) command=stop ;;
    --status | status) command=status ;;
    --restart | restart) command=restart ;;
    -h | --help | help)
      usage
      return 0
      ;;
    *)
      usage >&2
      return 2
      ;;
  esac
  case "$command" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart)
      cmd_stop
      exec 9>&- # release the lock before starting again
      cmd_start
      ;;
  esac
}

main "$@"
