#!/usr/bin/env bash
# Ensures a headless-capable Chromium is available for the report screenshot tests and prints its path.
#
#   scripts/ensure-chromium.sh            # prints e.g. /usr/bin/chromium
#   CHROMIUM_PATH=/opt/chrome/chrome scripts/ensure-chromium.sh
#
# Order: $CHROMIUM_PATH, /usr/bin/chromium, `chromium` or `chromium-browser` on PATH; otherwise, when running as
# root on a Debian/Ubuntu system, installs the distribution package `chromium` (about 30-90 s with a warm mirror).
# playwright-core never downloads a browser; it drives this one. Idempotent and silent (only the path on stdout)
# when already installed.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

found() {
  if [[ -n "${CHROMIUM_PATH:-}" ]]; then
    [[ -x "$CHROMIUM_PATH" ]] || { log "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"; exit 1; }
    printf '%s\n' "$CHROMIUM_PATH"
    return 0
  fi
  local p=""
  [[ -x /usr/bin/chromium ]] && p=/usr/bin/chromium
  [[ -z "$p" ]] && p="$(command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null || true)"
  [[ -n "$p" ]] || return 1
  printf '%s\n' "$p"
}

install_with_apt() {
  log "installing the Debian 'chromium' package (apt-get)…"
  local start=$SECONDS status=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
  } >/dev/null 2>&1 || status=$?
  if [[ $status != 0 ]]; then
    log "apt-get install chromium failed (exit $status); run it by hand to see why"
    exit 1
  fi
  log "installed in $((SECONDS - start)) s"
}

if found; then exit 0; fi

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  install_with_apt
  found || { log "the package installed, but no chromium binary was found"; exit 1; }
  exit 0
fi

log "no Chromium found. Install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to the binary;"
log "as root on Debian/Ubuntu this script installs it with apt-get."
exit 1
