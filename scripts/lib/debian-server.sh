#!/usr/bin/env bash
# Sourced by the ensure-* scripts of servers the tests run from a Debian package (Prometheus, InfluxDB):
#
#   ensure_debian_server BINARY PACKAGE SERVICE PORT ENV_VAR "what to install, if not on Debian"
#
# Prints the binary's path: $ENV_VAR, BINARY on PATH, /usr/bin/BINARY; otherwise, as root with apt-get, installs
# PACKAGE. The install runs under a policy-rc.d that forbids starting services, and the packaged SERVICE is stopped
# and disabled afterwards unless something already listened on PORT before, so nothing is left running.

ensure_debian_server() {
  local binary=$1 package=$2 service=$3 port=$4 env_var=$5 manual=$6
  local port_hex
  port_hex=$(printf '%04X' "$port")

  log() { printf 'ensure-%s: %s\n' "$package" "$*" >&2; }

  found() {
    local explicit=${!env_var:-}
    if [[ -n "$explicit" ]]; then
      [[ -x "$explicit" ]] || { log "$env_var=$explicit is not an executable file"; exit 1; }
      printf '%s\n' "$explicit"
      return 0
    fi
    local p
    p="$(command -v "$binary" 2>/dev/null || true)"
    [[ -z "$p" && -x "/usr/bin/$binary" ]] && p="/usr/bin/$binary"
    [[ -n "$p" ]] || return 1
    printf '%s\n' "$p"
  }

  listening() {
    # state 0A = LISTEN; /proc works without ss/netstat installed
    grep -qiE "^ *[0-9]+: [0-9A-F]+:$port_hex [0-9A-F]+:[0-9A-F]+ 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null
  }

  stop_packaged_service() {
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      systemctl disable --now "$service" >/dev/null 2>&1 || true
    elif command -v invoke-rc.d >/dev/null 2>&1; then
      invoke-rc.d "$service" stop >/dev/null 2>&1 || true
    fi
    if listening; then
      log "warning: something still listens on :$port after the install (not started by this script?)"
    fi
  }

  install_with_apt() {
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e "$policy" ]]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    local was_listening=0
    listening && was_listening=1
    log "installing the Debian '$package' package (apt-get)…"
    local start=$SECONDS status=0
    {
      apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package"
    } >/dev/null 2>&1 || status=$?
    [[ $created_policy == 1 ]] && rm -f "$policy"
    if [[ $status != 0 ]]; then
      log "apt-get install $package failed (exit $status); run it by hand to see why"
      exit 1
    fi
    log "installed in $((SECONDS - start)) s"
    [[ $was_listening == 1 ]] || stop_packaged_service
  }

  if found; then return 0; fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    install_with_apt
    found || { log "the package installed, but no $binary binary was found"; exit 1; }
    return 0
  fi
  log "no $binary binary found. $manual"
  log "Or set $env_var to the binary; as root on Debian/Ubuntu this script installs it with apt-get."
  exit 1
}
