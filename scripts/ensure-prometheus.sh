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
. "$(dirname "$0")/lib/debian-server.sh"
ensure_debian_server prometheus prometheus prometheus 9090 PROMETHEUS_PATH \
  'Install Prometheus (https://prometheus.io/download/) and put it on PATH.'
