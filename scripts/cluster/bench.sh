#!/usr/bin/env bash
# `npm run bench:cluster [-- NAME ...]`: the bench (default: its scale part) against the cluster profile: starts the
# cluster, points bench/run.ts at it (BENCH_TEMPORAL_ADDRESS; CLUSTER_STATE_DIR lets it sample the server and
# PostgreSQL), and stops everything it started.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="$(mktemp -d /tmp/rollout-cluster-bench.XXXXXX)"
trap 'bash "$HERE/stop.sh" "$STATE"' EXIT
bash "$HERE/start.sh" "$STATE" > /dev/null
set -a
# shellcheck disable=SC1091
. "$STATE/env"
set +a
export BENCH_TEMPORAL_ADDRESS="$TEMPORAL_ADDRESS"
unset TEMPORAL_ADDRESS
cd "$ROOT"
if [[ $# -eq 0 ]]; then set -- scale; fi
npx tsx bench/run.ts "$@"
