#!/usr/bin/env bash
# Builds (once per version) a single-node VictoriaMetrics server from its Go module and prints the binary's path.
#
#   scripts/ensure-victoriametrics.sh        # prints e.g. ~/.cache/rollout-orchestrator/victoria-metrics-1.151.0/bin/victoria-metrics
#   VICTORIAMETRICS_PATH=/opt/vm/victoria-metrics scripts/ensure-victoriametrics.sh
#
# Order: $VICTORIAMETRICS_PATH, then the cache under
# ${XDG_CACHE_HOME:-~/.cache}/rollout-orchestrator/victoria-metrics-<version>/bin; otherwise `go install` of
# github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@v<version> from the Go module proxy (no cgo).
# v1.151.0 needs Go >= 1.26.6 (this machine: /usr/local/go, 1.26.8); newer versions may ask for a newer toolchain,
# which this script never downloads (GOTOOLCHAIN=local: an old Go fails with a clear message instead). Cold (empty
# Go caches, 2 busy cores) it takes about 105 s; progress goes to stderr, the binary's path to stdout. Nothing runs.
set -euo pipefail

VERSION="${VICTORIAMETRICS_VERSION:-1.151.0}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/rollout-orchestrator/victoria-metrics-${VERSION}"
BIN="$CACHE_ROOT/bin"
MODULE=github.com/VictoriaMetrics/VictoriaMetrics
START=$(date +%s)

log() { echo "[ensure-victoriametrics] +$(($(date +%s) - START))s $*" >&2; }

if [[ -n "${VICTORIAMETRICS_PATH:-}" ]]; then
  [[ -x "$VICTORIAMETRICS_PATH" ]] || {
    log "VICTORIAMETRICS_PATH=$VICTORIAMETRICS_PATH is not an executable file"
    exit 1
  }
  echo "$VICTORIAMETRICS_PATH"
  exit 0
fi

if [[ -x "$BIN/victoria-metrics" ]]; then
  echo "$BIN/victoria-metrics"
  exit 0
fi

GO="$(command -v go || true)"
[[ -z "$GO" && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
if [[ -z "$GO" ]]; then
  log "go not found on PATH or at /usr/local/go/bin/go (install Go >= 1.26 to build VictoriaMetrics v${VERSION})"
  exit 1
fi
log "building victoria-metrics v${VERSION} with $("$GO" version)"

heartbeat() { while sleep 15; do log "… still building"; done; }

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOTOOLCHAIN=local
export CGO_ENABLED=0
rm -rf "$BIN.partial"
mkdir -p "$BIN.partial"
heartbeat &
HB=$!
trap 'kill "$HB" 2> /dev/null || true; rm -rf "$BIN.partial"' EXIT
# -s -w: no symbol tables, a shorter link; the version stamp is what `victoria-metrics --version` prints.
rc=0
GOBIN="$BIN.partial" "$GO" install -trimpath \
  -ldflags "-s -w -X ${MODULE}/lib/buildinfo.Version=victoria-metrics-v${VERSION}" \
  "${MODULE}/app/victoria-metrics@v${VERSION}" >&2 || rc=$?
kill "$HB" 2> /dev/null || true
wait "$HB" 2> /dev/null || true
if [[ $rc -ne 0 ]]; then
  log "go install failed (exit $rc)"
  exit "$rc"
fi

mkdir -p "$CACHE_ROOT"
rm -rf "$BIN"
mv "$BIN.partial" "$BIN"
log "done: $(du -h "$BIN/victoria-metrics" | cut -f1) binary in $BIN (cold build $(($(date +%s) - START)) s)"
echo "$BIN/victoria-metrics"
