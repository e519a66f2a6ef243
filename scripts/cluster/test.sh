#!/usr/bin/env bash
# `npm run test:cluster`: builds or reuses the server, starts the cluster profile, runs the workflow tests, the setup
# tests and test/cluster against it, stops everything, and prints the timings.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$(mktemp -d /tmp/rollout-cluster.XXXXXX)"
trap 'bash "$HERE/stop.sh" "$STATE"' EXIT
bash "$HERE/start.sh" "$STATE" > /dev/null
set -a
# shellcheck disable=SC1091
. "$STATE/env"
set +a
export TEMPORAL_TEST_ADDRESS="$TEMPORAL_ADDRESS"
unset TEMPORAL_ADDRESS
t0=$(date +%s.%N)
rc=0
(cd "$ROOT" && npx vitest run --config test/cluster/vitest.config.ts "$@") || rc=$?
# the server restart runs alone: a file connecting while the server is down would fail for no fault of its own
if [[ $# -eq 0 ]]; then
  (cd "$ROOT" && CLUSTER_RESTART_ONLY=1 npx vitest run --config test/cluster/vitest.config.ts) || rc=$?
fi
printf 'tests=%.1f\n' "$(echo "$(date +%s.%N) - $t0" | bc)" >> "$STATE/timings"
echo "[cluster] timings (s):" $(cat "$STATE/timings") >&2
exit $rc
