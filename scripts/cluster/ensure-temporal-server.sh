#!/usr/bin/env bash
# Builds (once per version) a production-like Temporal server and its SQL schema tool with `go install`,
# cached under ${XDG_CACHE_HOME:-~/.cache}/rollout-orchestrator/temporal-server-<version>/bin.
# Prints one line per phase with elapsed seconds and a heartbeat every 15 s; the last stdout line is the bin dir.
set -euo pipefail

VERSION="${TEMPORAL_SERVER_VERSION:-1.29.1}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/rollout-orchestrator/temporal-server-${VERSION}"
BIN="$CACHE_ROOT/bin"
START=$(date +%s)

log() { echo "[ensure-temporal-server] +$(($(date +%s) - START))s $*" >&2; }

if [[ -x "$BIN/server" && -x "$BIN/temporal-sql-tool" ]]; then
  log "reusing cached binaries in $BIN"
  echo "$BIN"
  exit 0
fi

if ! command -v go > /dev/null; then
  log "go not found on PATH (install Go >= 1.21 so GOTOOLCHAIN can fetch the version the server needs)"
  exit 1
fi
log "using $(go version)"
mkdir -p "$BIN.partial"

heartbeat() {
  local phase="$1"
  while sleep 15; do log "… still ${phase}"; done
}

run_phase() {
  local phase="$1"
  shift
  local t0
  t0=$(date +%s)
  log "phase: ${phase}"
  heartbeat "$phase" &
  local hb=$!
  local rc=0
  "$@" || rc=$?
  kill "$hb" 2> /dev/null || true
  wait "$hb" 2> /dev/null || true
  if [[ $rc -ne 0 ]]; then
    log "phase FAILED: ${phase} (exit ${rc})"
    exit "$rc"
  fi
  log "phase done: ${phase} in $(($(date +%s) - t0))s"
}

export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED="${CGO_ENABLED:-0}"

# Download first so the phases (network vs compile) are timed separately.
MODDIR="$(mktemp -d)"
trap 'rm -rf "$MODDIR"' EXIT
(
  cd "$MODDIR"
  go mod init tmp-temporal-download > /dev/null 2>&1
)
run_phase "download go.temporal.io/server@v${VERSION} modules" \
  bash -c "cd '$MODDIR' && go mod download -x go.temporal.io/server@v${VERSION} 2>/dev/null >/dev/null && go get go.temporal.io/server@v${VERSION} >/dev/null 2>&1 && go mod download all >/dev/null 2>&1"
run_phase "build cmd/server" env GOBIN="$BIN.partial" go install "go.temporal.io/server/cmd/server@v${VERSION}"
run_phase "build cmd/tools/sql" env GOBIN="$BIN.partial" go install "go.temporal.io/server/cmd/tools/sql@v${VERSION}"

# The sql tool's package is `sql`; name it as upstream ships it.
mv "$BIN.partial/sql" "$BIN.partial/temporal-sql-tool"
SRC="$(go env GOMODCACHE)/go.temporal.io/server@v${VERSION}"
mkdir -p "$CACHE_ROOT"
rm -rf "$CACHE_ROOT/schema" "$CACHE_ROOT/config"
cp -r "$SRC/schema/postgresql" "$CACHE_ROOT/schema"
cp -r "$SRC/config" "$CACHE_ROOT/config"
chmod -R u+w "$CACHE_ROOT/schema" "$CACHE_ROOT/config"
rm -rf "$BIN"
mv "$BIN.partial" "$BIN"
log "done: $(du -sh "$BIN" | cut -f1) of binaries in $BIN"
echo "$BIN"
