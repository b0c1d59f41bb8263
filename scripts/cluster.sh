#!/usr/bin/env bash
# Three Steller API nodes on this machine, on one PostgreSQL, for trying a cluster out (docs/cluster.md):
#   scripts/cluster.sh up      builds, provisions PostgreSQL and the vendor simulator as ./run.sh does, starts the nodes
#                              on 127.0.0.1:5081, :5082, :5083 (STELLER_CLUSTER_PORTS) in the background, and returns
#   scripts/cluster.sh status  which nodes run, and whether each is ready
#   scripts/cluster.sh down    stops the nodes (SIGTERM: they finish their jobs), the simulator, and PostgreSQL if `up` started it
# Put nginx or HAProxy in front (deploy/nginx.conf, deploy/haproxy.cfg) to serve them on one address (127.0.0.1:5080).
# Logs and pids: .steller/cluster/. With STELLER__DATABASE__CONNECTIONSTRING set, that database is used and nothing is provisioned.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

STATE=.steller/cluster
PORTS="${STELLER_CLUSTER_PORTS:-5081 5082 5083}"
SIM_PORT="${STELLER_VENDOR_SIMULATOR_PORT:-5090}"
SIM_ENABLED="${STELLER_VENDOR_SIMULATOR:-1}"
PG_PORT="${STELLER_PG_PORT:-55432}"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_ready() { # port pidfile
  for _ in $(seq 1 240); do
    if command -v curl >/dev/null; then curl -fsS "http://127.0.0.1:$1/health/live" >/dev/null 2>&1 && return 0
    else port_busy "$1" && return 0; fi
    alive "$2" || return 1
    sleep 0.5
  done
  return 1
}

up() {
  mkdir -p "$STATE"
  for f in "$STATE"/node-*.pid; do
    if alive "$f"; then echo "steller: the cluster is already up ($f); scripts/cluster.sh down first" >&2; exit 1; fi
  done
  for port in $PORTS; do
    if port_busy "$port"; then echo "steller: port $port on 127.0.0.1 is in use; free it or set STELLER_CLUSTER_PORTS" >&2; exit 1; fi
  done

  if [ -z "${STELLER__DATABASE__CONNECTIONSTRING:-}" ]; then
    steller_pg_up pg "$PG_PORT" durable
    steller_pg_database steller
    # Started here: `down` stops it (a server that was already running is left alone).
    if [ -n "$STELLER_PG_STARTED" ]; then echo "$STELLER_PG_BIN $STELLER_PG_STARTED" > "$STATE/pg-started"; fi
    STELLER_PG_STARTED="" # do not stop it when this script exits
    export STELLER__DATABASE__CONNECTIONSTRING="Host=127.0.0.1;Port=$PG_PORT;Database=steller;Username=steller"
  fi

  echo "steller: building..." >&2
  dotnet build src/Api/Steller.Api.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
  dotnet build src/Cli/Steller.Cli.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
  [ "$SIM_ENABLED" = "0" ] || dotnet build src/VendorSimulator/Steller.VendorSimulator.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

  if [ "$SIM_ENABLED" != "0" ]; then
    if port_busy "$SIM_PORT"; then echo "steller: port $SIM_PORT is in use (another simulator?); STELLER_VENDOR_SIMULATOR=0 to use none" >&2; exit 1; fi
    (cd src/VendorSimulator/bin/Release/net10.0 && exec dotnet Steller.VendorSimulator.dll --urls "http://127.0.0.1:$SIM_PORT" --Simulator:Sandbox=true) \
      > "$STATE/vendor-simulator.log" 2>&1 &
    echo $! > "$STATE/simulator.pid"
    wait_ready "$SIM_PORT" "$STATE/simulator.pid" || { echo "steller: the vendor simulator did not start; see $STATE/vendor-simulator.log" >&2; exit 1; }
    export STELLER__VENDORS__GIFTCARD__BASEURL="${STELLER__VENDORS__GIFTCARD__BASEURL:-http://127.0.0.1:$SIM_PORT/giftcard/}"
    export STELLER__VENDORS__GIFTCARD__CLIENTID="${STELLER__VENDORS__GIFTCARD__CLIENTID:-sandbox-client}"
    export STELLER__VENDORS__GIFTCARD__CLIENTSECRET="${STELLER__VENDORS__GIFTCARD__CLIENTSECRET:-sandbox-secret}"
    export STELLER__VENDORS__GIFTCARD__ACCOUNTID="${STELLER__VENDORS__GIFTCARD__ACCOUNTID:-sandbox-account}"
    export STELLER__VENDORS__TOPUP__BASEURL="${STELLER__VENDORS__TOPUP__BASEURL:-http://127.0.0.1:$SIM_PORT/topup/}"
    export STELLER__VENDORS__TOPUP__APIKEY="${STELLER__VENDORS__TOPUP__APIKEY:-sandbox-api-key}"
  fi
  # One master key file for every node (created by the first node, which therefore starts alone).
  export STELLER__SECURITY__MASTERKEYFILE="${STELLER__SECURITY__MASTERKEYFILE:-$PWD/.steller/master.key}"
  export STELLER__WEBHOOKS__ALLOWPRIVATETARGETS="${STELLER__WEBHOOKS__ALLOWPRIVATETARGETS:-true}"
  # Each node enforces its share of every partner rate limit (docs/partners.md).
  local count; count=$(echo $PORTS | wc -w)
  export STELLER__RATELIMITS__NODES="${STELLER__RATELIMITS__NODES:-$count}"

  local n=0
  for port in $PORTS; do
    n=$((n + 1))
    # The node's name shows in pg_stat_activity (and in which node leads each projection: docs/cluster.md).
    (cd src/Api/bin/Release/net10.0 && \
      STELLER__DATABASE__CONNECTIONSTRING="$STELLER__DATABASE__CONNECTIONSTRING;Application Name=steller-node-$n" \
      STELLER__DEMO__SEED="$([ $n = 1 ] && echo "${STELLER__DEMO__SEED:-true}" || echo false)" \
      STELLER__DEMO__CREDENTIALSFILE="${STELLER__DEMO__CREDENTIALSFILE:-$PWD/.steller/demo.txt}" \
      STELLER__DEMO__BASEURL="${STELLER_CLUSTER_URL:-http://127.0.0.1:5080}" \
      exec dotnet Steller.Api.dll --urls "http://127.0.0.1:$port") > "$STATE/node-$n.log" 2>&1 &
    echo $! > "$STATE/node-$n.pid"
    # The first node migrates and creates the master key; the others start once it listens.
    if [ $n = 1 ]; then
      wait_ready "$port" "$STATE/node-1.pid" || { echo "steller: node 1 did not start; see $STATE/node-1.log" >&2; tail -5 "$STATE/node-1.log" >&2; exit 1; }
    fi
  done
  n=0
  for port in $PORTS; do
    n=$((n + 1))
    wait_ready "$port" "$STATE/node-$n.pid" || { echo "steller: node $n did not start; see $STATE/node-$n.log" >&2; exit 1; }
  done
  printf 'export STELLER__DATABASE__CONNECTIONSTRING="%s"\n' "$STELLER__DATABASE__CONNECTIONSTRING" > .steller/cli.env
  echo "steller: $count nodes up on 127.0.0.1 ports $PORTS (logs in $STATE/); put deploy/nginx.conf or deploy/haproxy.cfg in front; scripts/cluster.sh down stops them" >&2
}

status() {
  local n=0
  for port in $PORTS; do
    n=$((n + 1))
    if alive "$STATE/node-$n.pid"; then
      ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" 2>/dev/null || echo "?")
      echo "node $n  127.0.0.1:$port  pid $(cat "$STATE/node-$n.pid")  ready: $ready"
    else
      echo "node $n  127.0.0.1:$port  not running"
    fi
  done
}

down() {
  for f in "$STATE"/node-*.pid "$STATE"/simulator.pid; do
    [ -f "$f" ] || continue
    if alive "$f"; then
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  if [ -f "$STATE/pg-started" ]; then
    read -r bin data < "$STATE/pg-started"
    steller_pg_as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    rm -f "$STATE/pg-started"
    echo "steller: PostgreSQL stopped" >&2
  fi
  echo "steller: cluster down" >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: scripts/cluster.sh up|status|down" >&2; exit 2 ;;
esac
