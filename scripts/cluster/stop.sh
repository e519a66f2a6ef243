#!/usr/bin/env bash
# Stops what scripts/cluster/start.sh started in STATE_DIR (the server, then PostgreSQL) and removes the directory.
# Usage: scripts/cluster/stop.sh STATE_DIR [--keep]
set -uo pipefail
STATE="${1:?usage: stop.sh STATE_DIR [--keep]}"
[[ -d "$STATE" ]] || exit 0
if [[ -f "$STATE/server.pid" ]]; then
  pid=$(cat "$STATE/server.pid")
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid" 2> /dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
  fi
fi
if [[ -f "$STATE/pgdata/postmaster.pid" ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$STATE/pgdata" -m immediate -w stop > /dev/null 2>&1 || true
  else
    /usr/lib/postgresql/15/bin/pg_ctl -D "$STATE/pgdata" -m immediate -w stop > /dev/null 2>&1 || true
  fi
fi
[[ "${2:-}" == "--keep" ]] || rm -rf "$STATE"
echo "[cluster] stopped ($STATE)" >&2
