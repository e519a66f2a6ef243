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
. "$(dirname "$0")/lib/debian-server.sh"
ensure_debian_server influxd influxdb influxdb 8086 INFLUXD_PATH \
  'Install InfluxDB 1.x (https://docs.influxdata.com/influxdb/v1/) and put influxd on PATH.'
