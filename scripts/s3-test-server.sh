#!/usr/bin/env bash
# A local S3-compatible server for tests: moto's `moto_server` (from PyPI) on 127.0.0.1.
#
#   scripts/s3-test-server.sh [start] [PORT]   installs moto into .tools/s3venv if missing, starts
#                                              the server in the background (if not already running
#                                              on PORT) and prints its endpoint, e.g.
#                                              http://127.0.0.1:9399, as the last line of stdout
#   scripts/s3-test-server.sh stop [PORT]      stops the server on PORT (every one this script
#                                              started when no PORT is given)
#   scripts/s3-test-server.sh install          only installs moto
#
# PORT defaults to $SHOTLINE_S3_TEST_PORT, else 9399. One pid file and log per port in .tools/.
# Progress goes to stderr; stdout carries only the endpoint. Used by crates/server/tests/s3.rs.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
TOOLS="$PWD/.tools"
VENV="$TOOLS/s3venv"
MARKER="$VENV/.moto-$MOTO_VERSION"   # written only after a complete install

log() { printf '\033[1;34m[s3-test-server]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[s3-test-server]\033[0m %s\n' "$*" >&2; exit 1; }

install() {
  [ -f "$MARKER" ] && return 0
  mkdir -p "$TOOLS"
  # Several tests may start at once on a fresh machine: one installs, the others wait for it.
  exec 9>"$TOOLS/s3venv.lock"
  if command -v flock >/dev/null; then flock 9; fi
  if [ -f "$MARKER" ]; then exec 9>&-; return 0; fi
  log "installing moto[server]==$MOTO_VERSION from PyPI into .tools/s3venv (first use only)"
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" >&2 || {
      rm -rf "$VENV"
      die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    }
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" >&2
  touch "$MARKER"
  exec 9>&-   # release the lock; moto_server must not inherit it
  log "moto $MOTO_VERSION installed"
}

# True if PID is alive and is a moto_server (guards against a stale pid file and a reused pid).
is_moto() {
  [ -n "${1:-}" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q moto_server
}

answers() {
  "$VENV/bin/python" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1).read()
EOF
}

start() {
  local port=$1 pidfile="$TOOLS/s3-test-server.$1.pid" log="$TOOLS/s3-test-server.$1.log" pid=""
  install
  [ -f "$pidfile" ] && pid=$(cat "$pidfile")
  if is_moto "$pid" && answers "$port"; then
    echo "http://127.0.0.1:$port"
    return 0
  fi
  rm -f "$pidfile"
  if "$VENV/bin/python" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null; then
    die "port $port is in use by another program"
  fi
  log "starting moto_server on 127.0.0.1:$port (log: .tools/s3-test-server.$port.log)"
  nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      tail -n 20 "$log" >&2 || true
      die "moto_server exited (port $port in use?)"
    fi
    if answers "$port"; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  die "moto_server did not answer on 127.0.0.1:$port within 30 s"
}

stop_one() {
  local pidfile=$1 pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if is_moto "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" "${pidfile%.pid}.log"
}

cmd=${1:-start}
case "$cmd" in
  install) install ;;
  start) start "${2:-${SHOTLINE_S3_TEST_PORT:-9399}}" ;;
  stop)
    if [ -n "${2:-}" ]; then
      stop_one "$TOOLS/s3-test-server.$2.pid"
    else
      for f in "$TOOLS"/s3-test-server.*.pid; do
        [ -e "$f" ] && stop_one "$f"
      done
    fi
    ;;
  [0-9]*) start "$cmd" ;;
  *) die "usage: $0 [start [PORT] | stop [PORT] | install]" ;;
esac
