#!/usr/bin/env bash
# Ensures a Prometheus server binary is available for the integration tests and prints its path.
#
#   scripts/ensure-prometheus.sh            # prints e.g. /usr/bin/prometheus
#   PROMETHEUS_PATH=/opt/prom/prometheus scripts/ensure-prometheus.sh
#
# Order: $PROMETHEUS_PATH, `prometheus` on PATH, /usr/bin/prometheus; otherwise, when running as root on a
# Debian/Ubuntu system, installs the distribution package (about 10-30 s with a warm mirror). Idempotent and
# silent (only the path on stdout) when already installed.
#
# The Debian package ships a service unit. Nothing must be left running on :9090 afterwards, so the install runs
# under a policy-rc.d that forbids starting services (containers without systemd never start it anyway), and
# any prometheus daemon found listening on 9090 afterwards is stopped.
set -euo pipefail

log() { printf 'ensure-prometheus: %s\n' "$*" >&2; }

found() {
  if [[ -n "${PROMETHEUS_PATH:-}" ]]; then
    [[ -x "$PROMETHEUS_PATH" ]] || { log "PROMETHEUS_PATH=$PROMETHEUS_PATH is not an executable file"; exit 1; }
    printf '%s\n' "$PROMETHEUS_PATH"
    return 0
  fi
  local p
  p="$(command -v prometheus 2>/dev/null || true)"
  [[ -z "$p" && -x /usr/bin/prometheus ]] && p=/usr/bin/prometheus
  [[ -n "$p" ]] || return 1
  printf '%s\n' "$p"
}

listening_on_9090() {
  # 9090 = 0x2382; state 0A = LISTEN. /proc works without ss/netstat installed.
  grep -qiE '^ *[0-9]+: [0-9A-F]+:2382 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

stop_packaged_service() {
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  elif command -v invoke-rc.d >/dev/null 2>&1; then
    invoke-rc.d prometheus stop >/dev/null 2>&1 || true
  fi
  if listening_on_9090; then
    log "warning: something still listens on :9090 after the install (not started by this script?)"
  fi
}

install_with_apt() {
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  local was_listening=0
  listening_on_9090 && was_listening=1
  log "installing the Debian 'prometheus' package (apt-get)…"
  local start=$SECONDS status=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  } >/dev/null 2>&1 || status=$?
  [[ $created_policy == 1 ]] && rm -f "$policy"
  if [[ $status != 0 ]]; then
    log "apt-get install prometheus failed (exit $status); run it by hand to see why"
    exit 1
  fi
  log "installed in $((SECONDS - start)) s"
  [[ $was_listening == 1 ]] || stop_packaged_service
}

if found; then exit 0; fi

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  install_with_apt
  found || { log "the package installed, but no prometheus binary was found"; exit 1; }
  exit 0
fi

log "no prometheus binary found. Install Prometheus (https://prometheus.io/download/) and put it on PATH,"
log "or set PROMETHEUS_PATH to the binary; as root on Debian/Ubuntu this script installs it with apt-get."
exit 1
