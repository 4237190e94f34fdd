#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the store tests (trust auth, as on
# this machine and CI's). Starts the installed one if it is down; installs Debian's if none is
# installed. Idempotent.
set -euo pipefail
log() { printf '\033[1;34m[postgres]\033[0m %s\n' "$*"; }
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null; then
  log "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  # The tests connect as postgres over TCP without a password, as on CI's machine.
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  done
fi
log "starting PostgreSQL"
service postgresql start >/dev/null 2>&1 || true
for v in $(ls /etc/postgresql 2>/dev/null); do
  pg_ctlcluster "$v" main start >/dev/null 2>&1 || true
done
for _ in $(seq 1 30); do
  if ready; then log "ready on 127.0.0.1:5432"; exit 0; fi
  sleep 1
done
echo "PostgreSQL does not answer on 127.0.0.1:5432; the store tests need it" >&2
exit 1
