#!/usr/bin/env bash
# Ensures an OpenFeature flagd daemon binary is available for the integration tests and prints its path.
#
#   scripts/ensure-flagd.sh                    # prints e.g. ~/.cache/rollout-orchestrator/flagd-0.16.1/flagd
#   FLAGD_PATH=/opt/flagd/flagd scripts/ensure-flagd.sh
#   FLAGD_VERSION=0.16.0 scripts/ensure-flagd.sh
#
# Order: $FLAGD_PATH; the per-version cache ${XDG_CACHE_HOME:-~/.cache}/rollout-orchestrator/flagd-<version>/flagd;
# otherwise `go install github.com/open-feature/flagd/flagd@v<version>` from the Go module proxy into that cache
# (GOBIN; the module and build caches are Go's own). v0.16.1's go.mod names Go 1.25.5, so the machine's Go builds it:
# GOTOOLCHAIN=local, nothing else is downloaded. Idempotent: only the path on stdout; progress with elapsed seconds
# on stderr. When the build cannot happen, exits 1 with the reason the go command gave (e.g. the proxy's refusal).
set -euo pipefail

VERSION="${FLAGD_VERSION:-0.16.1}"
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/rollout-orchestrator/flagd-${VERSION}"
BIN="$CACHE_DIR/flagd"
MODULE="github.com/open-feature/flagd/flagd"
START=$SECONDS

log() { printf 'ensure-flagd: +%ss %s\n' "$((SECONDS - START))" "$*" >&2; }

if [[ -n "${FLAGD_PATH:-}" ]]; then
  [[ -x "$FLAGD_PATH" ]] || { log "FLAGD_PATH=$FLAGD_PATH is not an executable file"; exit 1; }
  printf '%s\n' "$FLAGD_PATH"
  exit 0
fi
if [[ -x "$BIN" ]]; then
  printf '%s\n' "$BIN"
  exit 0
fi

GO="$(command -v go 2>/dev/null || true)"
[[ -z "$GO" && -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go
if [[ -z "$GO" ]]; then
  log "go not found (looked at PATH and /usr/local/go/bin/go): install Go >= 1.25.5 or set FLAGD_PATH"
  exit 1
fi
log "using $("$GO" version)"

export GOTOOLCHAIN=local CGO_ENABLED="${CGO_ENABLED:-0}" GOFLAGS="${GOFLAGS:--buildvcs=false}"
PARTIAL="$CACHE_DIR.partial"
rm -rf "$PARTIAL"
mkdir -p "$PARTIAL"
trap 'rm -rf "$PARTIAL"' EXIT

log "go install ${MODULE}@v${VERSION} (a cold build downloads and compiles a few hundred packages)…"
BUILD_LOG="$PARTIAL/go-install.log"
LDFLAGS="-s -w -X main.version=v${VERSION} -X main.commit=go-install -X main.date=unknown"
heartbeat() { while sleep 15; do log "… still building"; done; }
heartbeat &
HEARTBEAT=$!
STATUS=0
GOBIN="$PARTIAL" "$GO" install -ldflags "$LDFLAGS" "${MODULE}@v${VERSION}" >"$BUILD_LOG" 2>&1 || STATUS=$?
kill "$HEARTBEAT" 2>/dev/null || true
wait "$HEARTBEAT" 2>/dev/null || true

if [[ $STATUS != 0 ]]; then
  log "go install failed (exit $STATUS):"
  # the go command's own reason, e.g. "reading https://proxy.golang.org/…: 403 Forbidden … not available"
  grep -v '^go: downloading' "$BUILD_LOG" | head -n 8 | sed 's/^/  /' >&2
  if grep -q '403 Forbidden\|404 Not Found\|410 Gone' "$BUILD_LOG"; then
    log "the Go module proxy does not serve ${MODULE}@v${VERSION} (or a module it needs) here, so flagd cannot be"
    log "built on this machine: set FLAGD_PATH to a flagd v${VERSION} binary (a release from the flagd project)."
  fi
  exit 1
fi
[[ -x "$PARTIAL/flagd" ]] || { log "go install succeeded but produced no flagd binary"; exit 1; }
"$PARTIAL/flagd" version >/dev/null 2>&1 || { log "the built flagd does not run ('flagd version' failed)"; exit 1; }
mv -f "$PARTIAL/flagd" "$BIN"
log "built $BIN ($(du -h "$BIN" | cut -f1)) in $((SECONDS - START)) s"
printf '%s\n' "$BIN"
