#!/usr/bin/env bash
# Starts a production-like Temporal: a private PostgreSQL 15 (temp dir, free port, fsync off), the Temporal schemas,
# and the real server (all services in one process, 4 history shards, PostgreSQL visibility); then `rollout setup`.
# Usage: scripts/cluster/start.sh [STATE_DIR]   — writes STATE_DIR/env (TEMPORAL_ADDRESS=…, CLUSTER_STATE_DIR=…)
# and prints `export TEMPORAL_ADDRESS=…` last. Stop with scripts/cluster/stop.sh STATE_DIR.
# CLUSTER_TLS=mtls: the frontend serves TLS and requires a client certificate (a private CA, a server and a client
# certificate generated with openssl into STATE_DIR/tls); the env file then carries the client's TEMPORAL_TLS_* too.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
T0=$(date +%s.%N)
STATE="${1:-$(mktemp -d /tmp/rollout-cluster.XXXXXX)}"
mkdir -p "$STATE"
chmod 755 "$STATE"
log() { printf '[cluster] +%.1fs %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*" >&2; }
phase_start() { PHASE_T=$(date +%s.%N); log "phase: $1"; }
phase_done() {
  local s
  s=$(printf '%.1f' "$(echo "$(date +%s.%N) - $PHASE_T" | bc)")
  log "phase done: $1 in ${s}s"
  echo "$1=${s}" >> "$STATE/timings"
}
: > "$STATE/timings"

phase_start "temporal-server binaries"
BIN="$(bash "$HERE/ensure-temporal-server.sh" | tail -1)"
CACHE="$(dirname "$BIN")"
phase_done build

# Ports below 32768: Temporal stores membership ports in a smallint column.
free_port() {
  node -e 'const net=require("net");const t=()=>{const p=20000+Math.floor(Math.random()*12000);const s=net.createServer();s.once("error",t);s.listen(p,"127.0.0.1",()=>{console.log(p);s.close()})};t()'
}
# On failure, stop whatever was started (the caller cannot: it never got the state dir's env).
trap 'rc=$?; if [[ $rc -ne 0 ]]; then log "failed (exit $rc); stopping what was started"; bash "$HERE/stop.sh" "$STATE" --keep; fi' EXIT

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT=$(free_port)
PGDATA="$STATE/pgdata"
phase_start "postgresql start (port $PG_PORT)"
mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA" "$STATE" 2> /dev/null || true
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync > "$STATE/initdb.log" 2>&1
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$STATE/postgres.log" -w -t 60 start \
  -o "-p $PG_PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" > /dev/null
echo "PG_PORT=$PG_PORT" > "$STATE/pg"
phase_done postgres

phase_start "schemas"
SQL=("$BIN/temporal-sql-tool" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u postgres)
for db in temporal temporal_visibility; do
  dir=temporal
  [[ $db == temporal_visibility ]] && dir=visibility
  "${SQL[@]}" --db "$db" create-database > "$STATE/schema-$db.log" 2>&1
  "${SQL[@]}" --db "$db" setup-schema -v 0.0 >> "$STATE/schema-$db.log" 2>&1
  "${SQL[@]}" --db "$db" update-schema -d "$CACHE/schema/v12/$dir/versioned" >> "$STATE/schema-$db.log" 2>&1
done
phase_done schema

TLS_YAML=""
TLS_ENV=()
TLS_CLI=()
if [[ "${CLUSTER_TLS:-}" == mtls ]]; then
  phase_start "certificates"
  TLS="$STATE/tls"
  mkdir -p "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rollout-cluster-ca" \
    -keyout "$TLS/ca-key.pem" -out "$TLS/ca.pem" > /dev/null 2>&1
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' > "$TLS/leaf.cnf"
  for name in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=rollout-cluster-$name" \
      -keyout "$TLS/$name-key.pem" -out "$TLS/$name.csr" > /dev/null 2>&1
    openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca-key.pem" -CAcreateserial -days 2 \
      -extfile "$TLS/leaf.cnf" -out "$TLS/$name.pem" > /dev/null 2>&1
  done
  TLS_YAML="  tls:
    frontend:
      server:
        certFile: $TLS/server.pem
        keyFile: $TLS/server-key.pem
        requireClientAuth: true
        clientCaFiles: [$TLS/ca.pem]
      client:
        serverName: localhost
        rootCaFiles: [$TLS/ca.pem]
    systemWorker:
      certFile: $TLS/client.pem
      keyFile: $TLS/client-key.pem
      client:
        serverName: localhost
        rootCaFiles: [$TLS/ca.pem]"
  TLS_ENV=(
    "TEMPORAL_TLS_CLIENT_CERT_PATH=$TLS/client.pem"
    "TEMPORAL_TLS_CLIENT_KEY_PATH=$TLS/client-key.pem"
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH=$TLS/ca.pem"
    "TEMPORAL_TLS_SERVER_NAME=localhost"
  )
  TLS_CLI=(--tls-ca-path "$TLS/ca.pem" --tls-cert-path "$TLS/client.pem" --tls-key-path "$TLS/client-key.pem"
    --tls-server-name localhost)
  phase_done certificates
fi

FRONTEND=$(free_port)
HTTP=$(free_port)
mkdir -p "$STATE/config"
ports=()
for _ in 1 2 3 4 5 6 7 8; do ports+=("$(free_port)"); done
cat > "$STATE/config/cluster.yaml" <<YAML
# adapted from go.temporal.io/server config/development-postgres12.yaml (v1.29.1)
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: "postgres12"
        databaseName: "temporal"
        connectAddr: "127.0.0.1:$PG_PORT"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: "1h"
    postgres-visibility:
      sql:
        pluginName: "postgres12"
        databaseName: "temporal_visibility"
        connectAddr: "127.0.0.1:$PG_PORT"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: "1h"
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
$TLS_YAML
services:
  frontend:
    rpc: { grpcPort: $FRONTEND, membershipPort: ${ports[0]}, bindOnLocalHost: true, httpPort: $HTTP }
  matching:
    rpc: { grpcPort: ${ports[1]}, membershipPort: ${ports[2]}, bindOnLocalHost: true }
  history:
    rpc: { grpcPort: ${ports[3]}, membershipPort: ${ports[4]}, bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: ${ports[5]}, membershipPort: ${ports[6]}, bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:$FRONTEND"
dcRedirectionPolicy:
  policy: "noop"
dynamicConfigClient:
  filepath: "$STATE/config/dynamic.yaml"
  pollInterval: "10s"
YAML
# What the dev server provides and a real one does not (see README "A production-like Temporal").
cat > "$STATE/config/dynamic.yaml" <<'YAML'
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
system.enableActivityEagerExecution:
  - value: true
frontend.enableUpdateWorkflowExecution:
  - value: true
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
frontend.namespaceRPS.visibility:
  - value: 2000
frontend.namespaceBurstRatio.visibility:
  - value: 2
frontend.rps:
  - value: 20000
frontend.namespaceRPS:
  - value: 20000
frontend.persistenceMaxQPS:
  - value: 20000
history.persistenceMaxQPS:
  - value: 20000
matching.persistenceMaxQPS:
  - value: 20000
worker.persistenceMaxQPS:
  - value: 20000
system.visibilityPersistenceMaxReadQPS:
  - value: 20000
system.visibilityPersistenceMaxWriteQPS:
  - value: 20000
YAML

# (Re)starts the server process: the cluster test kills it mid-rollout and runs this again.
cat > "$STATE/run-server.sh" <<RUN
#!/usr/bin/env bash
set -euo pipefail
cd "$STATE"
"$BIN/server" --root "$STATE" --config config --env cluster --allow-no-auth start >> "$STATE/server.log" 2>&1 &
echo \$! > "$STATE/server.pid"
RUN
chmod +x "$STATE/run-server.sh"
export TEMPORAL_ADDRESS="127.0.0.1:$FRONTEND"
{
  echo "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS"
  echo "CLUSTER_STATE_DIR=$STATE"
  for line in "${TLS_ENV[@]}"; do echo "$line"; done
} > "$STATE/env"

phase_start "server start → SERVING"
bash "$STATE/run-server.sh"
TEMPORAL_CLI="$(cd "$ROOT" && node --import tsx src/cli/main.ts provision 2> /dev/null)"
deadline=$(($(date +%s) + 180))
until "$TEMPORAL_CLI" operator cluster health --address "$TEMPORAL_ADDRESS" "${TLS_CLI[@]}" 2> /dev/null | grep -q SERVING; do
  if ! kill -0 "$(cat "$STATE/server.pid")" 2> /dev/null; then
    log "server exited during start-up; last lines of $STATE/server.log:"
    tail -20 "$STATE/server.log" >&2
    exit 1
  fi
  if [[ $(date +%s) -gt $deadline ]]; then
    log "server not SERVING within 180 s (log: $STATE/server.log)"
    exit 1
  fi
  sleep 0.3
done
phase_done server

phase_start "rollout setup"
(cd "$ROOT" && env "${TLS_ENV[@]}" node --import tsx src/cli/main.ts setup) >&2
phase_done setup

log "Temporal at $TEMPORAL_ADDRESS (state in $STATE; stop with scripts/cluster/stop.sh $STATE)"
echo "export TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS CLUSTER_STATE_DIR=$STATE"
