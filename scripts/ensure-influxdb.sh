#!/usr/bin/env bash
# Ensures an InfluxDB 1.x server binary (influxd) is available for the integration tests and prints its path.
#
#   scripts/ensure-influxdb.sh              # prints e.g. /usr/bin/influxd
#   INFLUXD_PATH=/opt/influxdb/usr/bin/influxd scripts/ensure-influxdb.sh
#
# Order: $INFLUXD_PATH, `influxd` on PATH, /usr/bin/influxd; otherwise, when running as root on a Debian/Ubuntu
# system, installs the distribution package `influxdb` (bookworm: 1.6.7, the 1.x HTTP API with InfluxQL; about
# 5 MB, 5-20 s with a warm mirror). Idempotent and silent (only the path on stdout) when already installed.
#
# The Debian package ships a service that would listen on :8086 (HTTP) and :8088 (RPC). Nothing must be left
# running, so the install runs under a policy-rc.d that forbids starting services (containers without systemd
# never start it anyway), and the packaged service is stopped and disabled afterwards unless it ran before.
set -euo pipefail

log() { printf 'ensure-influxdb: %s\n' "$*" >&2; }

found() {
  if [[ -n "${INFLUXD_PATH:-}" ]]; then
    [[ -x "$INFLUXD_PATH" ]] || { log "INFLUXD_PATH=$INFLUXD_PATH is not an executable file"; exit 1; }
    printf '%s\n' "$INFLUXD_PATH"
    return 0
  fi
  local p
  p="$(command -v influxd 2>/dev/null || true)"
  [[ -z "$p" && -x /usr/bin/influxd ]] && p=/usr/bin/influxd
  [[ -n "$p" ]] || return 1
  printf '%s\n' "$p"
}

listening_on_8086() {
  # 8086 = 0x1F96; state 0A = LISTEN. /proc works without ss/netstat installed.
  grep -qiE '^ *[0-9]+: [0-9A-F]+:1F96 [0-9A-F]+:[0-9A-F]+ 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

stop_packaged_service() {
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl disable --now influxdb >/dev/null 2>&1 || true
  elif command -v invoke-rc.d >/dev/null 2>&1; then
    invoke-rc.d influxdb stop >/dev/null 2>&1 || true
  fi
  if listening_on_8086; then
    log "warning: something still listens on :8086 after the install (not started by this script?)"
  fi
}

install_with_apt() {
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  local was_listening=0
  listening_on_8086 && was_listening=1
  log "installing the Debian 'influxdb' package (apt-get)…"
  local start=$SECONDS status=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends influxdb
  } >/dev/null 2>&1 || status=$?
  [[ $created_policy == 1 ]] && rm -f "$policy"
  if [[ $status != 0 ]]; then
    log "apt-get install influxdb failed (exit $status); run it by hand to see why"
    exit 1
  fi
  log "installed in $((SECONDS - start)) s"
  [[ $was_listening == 1 ]] || stop_packaged_service
}

if found; then exit 0; fi

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  install_with_apt
  found || { log "the package installed, but no influxd binary was found"; exit 1; }
  exit 0
fi

log "no influxd binary found. Install InfluxDB 1.x (https://docs.influxdata.com/influxdb/v1/) and put influxd on"
log "PATH, or set INFLUXD_PATH to the binary; as root on Debian/Ubuntu this script installs it with apt-get."
exit 1
