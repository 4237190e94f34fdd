#!/usr/bin/env bash
# Load benchmark of `shotline serve`, for the target "≥ 5,000 req/s for GET /api/v1/shared/{slug} with
# p99 ≤ 20 ms" on this 2-core machine. wrk (Debian's) drives the release binary over loopback:
#   healthz   GET /healthz                   the same-run baseline: routing plus `SELECT 1`
#   shared    GET /api/v1/shared/<slug>      the target: one indexed join, no token
#   workflow  GET /api/v1/workflows/<id>     with a token: token check, rate-limit write, read
# wrk and the server share the same two cores, as they would on a merchant's small box.
# Results go to BENCHMARKS.md by hand, with the machine, its load and this command.
#
# Usage: bash scripts/bench-server.sh [--postgres] [-d 15s] [-c 64] [-t 2]
#   --postgres   a fresh database shotline_bench_<random> on postgres://postgres@127.0.0.1:5432
#                (dropped afterwards) instead of a SQLite file
set -euo pipefail
cd "$(dirname "$0")/.."

postgres=0
duration=15s
connections=64
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) postgres=1 ;;
    -d | --duration) duration="$2"; shift ;;
    -c | --connections) connections="$2"; shift ;;
    -t | --threads) threads="$2"; shift ;;
    -d*) duration="${1#-d}" ;;
    -c*) connections="${1#-c}" ;;
    -t*) threads="${1#-t}" ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian)..." >&2
  if ! apt-get install -y wrk >/dev/null 2>&1; then
    apt-get update >/dev/null
    apt-get install -y wrk >/dev/null
  fi
fi

cargo build --release -p shotline-server
bin=target/release/shotline

work=$(mktemp -d)
server_pid=""
pg_db=""
pg_admin=postgres://postgres@127.0.0.1:5432/postgres
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_db" ]; then
    psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/dist" "$work/data"
echo '<!doctype html><title>Shotline</title>' >"$work/dist/index.html"
: >"$work/server.out"

# The data directory's SQLite file and objects, whatever this shell's environment says.
server_env=(env -u DATABASE_URL -u SHOTLINE_S3_BUCKET)
backend=SQLite
if [ "$postgres" = 1 ]; then
  pg_db="shotline_bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
  server_env+=("DATABASE_URL=postgres://postgres@127.0.0.1:5432/$pg_db")
  backend=PostgreSQL
fi

# Port 0: the server picks a free port and prints its URL. The token's rate limit is lifted so the
# authenticated run measures the server, not 429s.
"${server_env[@]}" SHOTLINE_RATE_PER_MINUTE=1000000000 \
  "$bin" serve --dist "$work/dist" --data "$work/data" --addr 127.0.0.1:0 \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

base=""
for _ in $(seq 1 300); do
  base=$(sed -n 's#^Shotline is running at \(http://[^/]*\)/.*#\1#p' "$work/server.out")
  if [ -n "$base" ] && curl -fsS "$base/healthz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server stopped:" >&2
    cat "$work/server.err" >&2
    exit 1
  fi
  base=""
  sleep 0.1
done
[ -n "$base" ] || { echo "the server did not answer /healthz in 30 s" >&2; cat "$work/server.err" >&2; exit 1; }

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

token=$(curl -fsS -X POST "$base/api/v1/workspaces" | field token)
auth="Authorization: Bearer $token"
"$bin" templates amazon-main >"$work/workflow.json"
wf_id=$(curl -fsS -X POST "$base/api/v1/workflows" -H "$auth" -H 'Content-Type: application/json' \
  --data-binary "@$work/workflow.json" | field id)
slug=$(curl -fsS -X POST "$base/api/v1/workflows/$wf_id/shares" -H "$auth" | field slug)
[ -n "$token" ] && [ -n "$wf_id" ] && [ -n "$slug" ] || { echo "setup failed (token, workflow or share)" >&2; exit 1; }

# Each URL answers 200 before it is measured.
curl -fsS -o /dev/null "$base/api/v1/shared/$slug"
curl -fsS -o /dev/null -H "$auth" "$base/api/v1/workflows/$wf_id"

# wrk's latency figures in ms, whatever unit wrk chose.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.2f", n }'
}

rows=()
run() {
  local name="$1" url="$2"
  shift 2
  local out="$work/wrk-${#rows[@]}.txt"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url" >"$out"
  local rps p50 p99 bad errors
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errors=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$out")
  rows+=("$(printf '%-36s %10s %9s %9s %8s  %s' "$name" "$rps" "$p50" "$p99" "${bad:-0}" "${errors:-}")")
  if [ "$name" = "GET /api/v1/shared/{slug}" ]; then
    shared_rps=$rps
    shared_p99=$p99
  fi
}

echo
echo "shotline serve on $backend, wrk -t$threads -c$connections -d$duration --latency, $(nproc) cores," \
  "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run "GET /healthz (baseline)" "$base/healthz"
run "GET /api/v1/shared/{slug}" "$base/api/v1/shared/$slug"
run "GET /api/v1/workflows/{id} (token)" "$base/api/v1/workflows/$wf_id" -H "$auth"

echo
printf '%-36s %10s %9s %9s %8s  %s\n' "request" "req/s" "p50 ms" "p99 ms" "non-2xx" "socket errors"
printf '%s\n' "${rows[@]}"
echo
verdict=$(awk -v r="$shared_rps" -v p="$shared_p99" 'BEGIN { print (r >= 5000 && p <= 20) ? "met" : "NOT met" }')
echo "target (GET /api/v1/shared/{slug} ≥ 5000 req/s, p99 ≤ 20 ms): $verdict" \
  "— load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -s "$work/server.err" ] && grep -qiE 'error|panic' "$work/server.err"; then
  echo "the server logged errors:" >&2
  grep -iE 'error|panic' "$work/server.err" | head -5 >&2
fi
