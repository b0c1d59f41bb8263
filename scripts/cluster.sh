#!/usr/bin/env bash
# Three Steller API nodes on this machine, on one PostgreSQL, for trying a cluster out (docs/cluster.md):
#   scripts/cluster.sh up      builds, provisions PostgreSQL and the vendor simulator as ./run.sh does, starts the nodes
#                              on 127.0.0.1:5081, :5082, :5083 (STELLER_CLUSTER_PORTS) in the background, writes nginx and
#                              HAProxy configurations for those ports into .steller/cluster/, and returns
#   scripts/cluster.sh status  which nodes run, whether each is ready, and which node leads each log follower
#   scripts/cluster.sh start N starts node N again (after a kill -9, say) with the settings `up` gave it
#   scripts/cluster.sh down    stops the nodes (SIGTERM: they finish their jobs), the simulator, and PostgreSQL if `up` started it
# Put nginx or HAProxy in front (deploy/nginx.conf, deploy/haproxy.cfg; rendered for your ports in .steller/cluster/) to serve
# them on one address, 127.0.0.1:5080 (STELLER_CLUSTER_LB_PORT).
# Settings: STELLER_CLUSTER_PORTS, STELLER_CLUSTER_LB_PORT, STELLER_PG_PORT (55432), STELLER_VENDOR_SIMULATOR_PORT (5090),
# STELLER_VENDOR_SIMULATOR=0, STELLER_CLUSTER_SKIP_BUILD=1 (use the Release build as it is), STELLER_CLUSTER_STATE (folder).
# Logs and pids: .steller/cluster/. With STELLER__DATABASE__CONNECTIONSTRING set, that database is used and nothing is provisioned.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

# Where pids, logs, the nodes' settings and the rendered balancer configurations go (a test points it elsewhere).
STATE="${STELLER_CLUSTER_STATE:-.steller/cluster}"
PORTS="${STELLER_CLUSTER_PORTS:-5081 5082 5083}"
LB_PORT="${STELLER_CLUSTER_LB_PORT:-5080}"
SIM_PORT="${STELLER_VENDOR_SIMULATOR_PORT:-5090}"
SIM_ENABLED="${STELLER_VENDOR_SIMULATOR:-1}"
PG_PORT="${STELLER_PG_PORT:-55432}"
CLI=src/Cli/bin/Release/net10.0/steller.dll
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A process that ended but was not reaped yet (a zombie: its parent, this script, is gone) counts as ended.
running() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
alive() { [ -f "$1" ] && running "$(cat "$1")"; }
say() { echo "steller: $*" >&2; }

# Waits until 127.0.0.1:port answers path (200) — or, for path "-", accepts connections; fails when the process ends.
wait_ready() { # port pidfile path seconds
  local deadline=$((SECONDS + ${4:-180}))
  while [ $SECONDS -lt $deadline ]; do
    if [ "$3" != "-" ] && command -v curl >/dev/null; then curl -fsS -m 2 "http://127.0.0.1:$1$3" >/dev/null 2>&1 && return 0
    else port_busy "$1" && return 0; fi
    alive "$2" || return 1
    sleep 0.5
  done
  return 1
}

# What went wrong, from a log: its first errors, then its last lines.
log_excerpt() { # what log
  say "$1 did not start (see $2):"
  if [ "$(wc -l < "$2")" -le 12 ]; then cat "$2"
  else grep -E -m 4 '(Exception:|^crit:|^fail:|^steller:|address already in use)' "$2" || true; echo "..."; tail -n 6 "$2"; fi \
    | cut -c1-300 | sed 's/^/    /' >&2
}

# A process `up` started did not come up: say which, show its log's end, stop everything `up` started.
failed() { # what log
  log_excerpt "$1" "$2"
  exit 1
}

# deploy/<file> with the balancer's port and one server line per node port (the first server line is the template).
render() { # source target
  awk -v lb="$LB_PORT" -v ports="$PORTS" '
    /127\.0\.0\.1:5080/ { sub(/127\.0\.0\.1:5080/, "127.0.0.1:" lb) }
    /^[ \t]*server[ \t].*127\.0\.0\.1:508[1-9]/ {
      if (done) next
      done = 1; n = split(ports, p, " ")
      for (i = 1; i <= n; i++) { line = $0; sub(/127\.0\.0\.1:508[1-9]/, "127.0.0.1:" p[i], line); sub(/node1/, "node" i, line); print line }
      next
    }
    { print }' "$1" > "$2"
}

# Starts node n on its port in the background, with the environment of `up`.
start_node() { # n port demo-seed
  # The node's name shows in pg_stat_activity (and in which node leads each projection: docs/cluster.md).
  (cd src/Api/bin/Release/net10.0 && \
    STELLER__DATABASE__CONNECTIONSTRING="$STELLER__DATABASE__CONNECTIONSTRING;Application Name=steller-node-$1" \
    STELLER__DEMO__SEED="$3" \
    exec dotnet Steller.Api.dll --urls "http://127.0.0.1:$2") >> "$STATE/node-$1.log" 2>&1 &
  echo $! > "$STATE/node-$1.pid"
  disown $! # its end is reported by wait_ready and status, not by bash
}

# Starts node n again (after a crash, a kill -9 or a stop), as `up` started it, without building.
start() { # n
  local n="${1:-}" port
  [ -f "$STATE/env" ] && [ -f "$STATE/ports" ] || { say "the cluster was not started here (scripts/cluster.sh up first)"; exit 1; }
  port=$(sed -n "${n:-x}p" "$STATE/ports" 2>/dev/null || true)
  [ -n "$port" ] || { say "usage: scripts/cluster.sh start N, N from 1 to $(wc -l < "$STATE/ports")"; exit 2; }
  if alive "$STATE/node-$n.pid"; then say "node $n already runs (pid $(cat "$STATE/node-$n.pid"))"; exit 1; fi
  if port_busy "$port"; then say "port $port on 127.0.0.1 is in use; node $n cannot start on it"; exit 1; fi
  source "$STATE/env"
  start_node "$n" "$port" false
  wait_ready "$port" "$STATE/node-$n.pid" /health/live 300 || { log_excerpt "node $n (127.0.0.1:$port)" "$STATE/node-$n.log"; exit 1; }
  say "node $n up on 127.0.0.1:$port"
}

up() {
  mkdir -p "$STATE"
  for f in "$STATE"/node-*.pid; do
    if alive "$f"; then say "the cluster is already up ($f); scripts/cluster.sh down first"; exit 1; fi
  done
  [ -n "$(echo $PORTS)" ] || { say "STELLER_CLUSTER_PORTS is empty"; exit 2; }
  for port in $PORTS $LB_PORT $([ "$SIM_ENABLED" = "0" ] || echo "$SIM_PORT"); do
    case "$port" in (*[!0-9]*|"") say "'$port' is not a port number (STELLER_CLUSTER_PORTS, STELLER_CLUSTER_LB_PORT, STELLER_VENDOR_SIMULATOR_PORT)"; exit 2;; esac
  done
  for port in $PORTS; do
    if port_busy "$port"; then say "port $port on 127.0.0.1 is in use; free it or choose others with STELLER_CLUSTER_PORTS=\"... ... ...\""; exit 1; fi
  done
  if [ "$SIM_ENABLED" != "0" ] && port_busy "$SIM_PORT"; then
    say "port $SIM_PORT on 127.0.0.1 is in use (another vendor simulator, ./run.sh?); set STELLER_VENDOR_SIMULATOR_PORT, or STELLER_VENDOR_SIMULATOR=0 for none"; exit 1
  fi
  rm -f "$STATE"/*.pid "$STATE"/ports "$STATE"/node-*.log "$STATE"/cli.env
  # From here on, a failure stops whatever was started (down is idempotent).
  trap 'rc=$?; if [ $rc != 0 ]; then down >/dev/null 2>&1 || true; say "up failed; stopped what it had started"; fi' EXIT

  if [ -z "${STELLER__DATABASE__CONNECTIONSTRING:-}" ]; then
    steller_pg_up pg "$PG_PORT" durable
    # Started here: `down` stops it (a server that was already running is left alone).
    if [ -n "$STELLER_PG_STARTED" ]; then echo "$STELLER_PG_BIN $STELLER_PG_STARTED" > "$STATE/pg-started"; fi
    STELLER_PG_STARTED="" # do not stop it when this script exits
    steller_pg_database steller
    export STELLER__DATABASE__CONNECTIONSTRING="Host=127.0.0.1;Port=$PG_PORT;Database=steller;Username=steller"
  else
    say "using the configured STELLER__DATABASE__CONNECTIONSTRING; provisioning no PostgreSQL"
  fi

  if [ "${STELLER_CLUSTER_SKIP_BUILD:-0}" = "1" ]; then
    [ -f src/Api/bin/Release/net10.0/Steller.Api.dll ] || { say "STELLER_CLUSTER_SKIP_BUILD=1 but there is no Release build of the API"; exit 1; }
  else
    say "building (Release)..."
    dotnet build src/Api/Steller.Api.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
    dotnet build src/Cli/Steller.Cli.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
    [ "$SIM_ENABLED" = "0" ] || dotnet build src/VendorSimulator/Steller.VendorSimulator.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
  fi
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

  if [ "$SIM_ENABLED" != "0" ]; then
    (cd src/VendorSimulator/bin/Release/net10.0 && exec dotnet Steller.VendorSimulator.dll --urls "http://127.0.0.1:$SIM_PORT" --Simulator:Sandbox=true) \
      > "$STATE/vendor-simulator.log" 2>&1 &
    echo $! > "$STATE/simulator.pid"
    disown $!
    # The simulator has no health endpoint: listening is enough.
    wait_ready "$SIM_PORT" "$STATE/simulator.pid" - 120 || failed "the vendor simulator (127.0.0.1:$SIM_PORT)" "$STATE/vendor-simulator.log"
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
  # The nodes sit behind the local load balancer: its X-Forwarded-For is the client's address (docs/partners.md).
  export STELLER__HTTP__TRUSTEDPROXIES="${STELLER__HTTP__TRUSTEDPROXIES:-127.0.0.1}"
  # Each node enforces its share of every partner rate limit (docs/partners.md).
  local count; count=$(echo $PORTS | wc -w)
  export STELLER__RATELIMITS__NODES="${STELLER__RATELIMITS__NODES:-$count}"
  local url="${STELLER_CLUSTER_URL:-http://127.0.0.1:$LB_PORT}"
  local demo_file="${STELLER__DEMO__CREDENTIALSFILE:-$PWD/.steller/demo.txt}"

  export STELLER__DEMO__CREDENTIALSFILE="$demo_file" STELLER__DEMO__BASEURL="$url"
  # What every node is started with, for `start N` (restarting one node) later.
  (umask 077; env | grep -E '^(STELLER__|ASPNETCORE_ENVIRONMENT=)' | while IFS='=' read -r k v; do printf 'export %s=%q\n' "$k" "$v"; done \
    > "$STATE/env")

  local n=0
  for port in $PORTS; do
    n=$((n + 1))
    echo "$port" >> "$STATE/ports"
    start_node $n "$port" "$([ $n = 1 ] && echo "${STELLER__DEMO__SEED:-true}" || echo false)"
    # The first node migrates, seeds the demo data and creates the master key; the others start once it listens.
    if [ $n = 1 ]; then
      wait_ready "$port" "$STATE/node-1.pid" /health/live 300 || failed "node 1 (127.0.0.1:$port)" "$STATE/node-1.log"
    fi
  done
  n=0
  for port in $PORTS; do
    n=$((n + 1))
    wait_ready "$port" "$STATE/node-$n.pid" /health/live 300 || failed "node $n (127.0.0.1:$port)" "$STATE/node-$n.log"
  done
  trap - EXIT
  printf '# Written by scripts/cluster.sh up: `source .steller/cli.env` before running the steller CLI against the cluster.\nexport STELLER__DATABASE__CONNECTIONSTRING="%s"\n' \
    "$STELLER__DATABASE__CONNECTIONSTRING" > "$STATE/cli.env"
  [ -n "${STELLER_CLUSTER_STATE:-}" ] || cp "$STATE/cli.env" .steller/cli.env

  # The balancer configurations for these ports (deploy/ holds them for the default ports).
  render deploy/nginx.conf "$STATE/nginx.conf"
  cp deploy/nginx-standalone.conf "$STATE/nginx-standalone.conf"
  render deploy/haproxy.cfg "$STATE/haproxy.cfg"
  mkdir -p .steller/nginx/logs

  local demo_url=""
  [ -f "$demo_file" ] && demo_url=$(sed -n 's/^\(export \)\{0,1\}STELLER_BASE_URL=//p' "$demo_file")
  local demo_hint=""
  if [ -n "$demo_url" ] && [ "$demo_url" != "$url" ]; then
    demo_hint="   ($demo_file says $demo_url: export STELLER_BASE_URL=$url first)"
  fi
  cat >&2 <<MSG

  $count Steller nodes are up: $(for p in $PORTS; do printf 'http://127.0.0.1:%s ' "$p"; done)
    Logs        $STATE/node-N.log, $STATE/vendor-simulator.log
    Balancer    not started by this script; configurations for these ports and 127.0.0.1:$LB_PORT:
                  haproxy -f $STATE/haproxy.cfg                                   (foreground; Ctrl-C stops it)
                  nginx -p "\$PWD/.steller/nginx" -c "\$PWD/$STATE/nginx-standalone.conf"    (stop: the same with -s quit)
    Try it      dotnet $CLI demo order$demo_hint
    Operate     scripts/cluster.sh status; source .steller/cli.env; dotnet $CLI projections status
    Stop        scripts/cluster.sh down

MSG
}

status() {
  local ports="$PORTS"
  [ -f "$STATE/ports" ] && ports=$(cat "$STATE/ports")
  local n=0 running=0
  for port in $ports; do
    n=$((n + 1))
    if alive "$STATE/node-$n.pid"; then
      running=$((running + 1))
      ready=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/ready" 2>/dev/null || true)
      echo "node $n  127.0.0.1:$port  pid $(cat "$STATE/node-$n.pid")  /health/ready: ${ready:-no answer}"
    else
      echo "node $n  127.0.0.1:$port  not running"
    fi
  done
  if alive "$STATE/simulator.pid"; then echo "vendor simulator  pid $(cat "$STATE/simulator.pid")"; fi
  [ $running -gt 0 ] || return 0
  # Which node leads each log follower: the session holding its advisory lock (docs/cluster.md).
  local bin; bin=$(steller_pg_bin)
  local conn=""
  [ -f "$STATE/cli.env" ] && conn=$(sed -n 's/^export STELLER__DATABASE__CONNECTIONSTRING="\(.*\)"$/\1/p' "$STATE/cli.env")
  local host port db user
  host=$(echo "$conn" | tr ';' '\n' | sed -n 's/^Host=//p'); port=$(echo "$conn" | tr ';' '\n' | sed -n 's/^Port=//p')
  db=$(echo "$conn" | tr ';' '\n' | sed -n 's/^Database=//p'); user=$(echo "$conn" | tr ';' '\n' | sed -n 's/^Username=//p')
  if [ -z "$bin" ] || [ -z "$host" ]; then return 0; fi
  echo "log followers by leader:"
  "$bin/psql" -h "$host" -p "${port:-5432}" -U "${user:-steller}" -d "${db:-steller}" -X -q -tA -F ' ' -c "
    with leaders as (
      select p.name, count(a.pid) as holders, string_agg(a.application_name, ',') as who
        from steller.projections p
        left join pg_locks l on l.locktype = 'advisory' and l.granted and l.objsubid = 2
             and l.classid::bigint = (hashtext('steller.projection.leader')::bigint & 4294967295)
             and l.objid::bigint = (hashtext(p.name)::bigint & 4294967295)
        left join pg_stat_activity a on a.pid = l.pid
       group by p.name)
    select '  ' || coalesce(who, 'nobody') || ': ' || count(*) || ' (' || string_agg(name, ', ' order by name) || ')'
      from leaders group by who
    union all
    select '  every follower has exactly one leader: ' || case when bool_and(holders = 1) then 'yes' else 'NO' end from leaders" \
    2>/dev/null || echo "  (could not ask the database)"
  # The leader loops (fulfilment poller, pending-order timeout, hold and reservation expiry) run on the node holding their own advisory lock.
  echo "leader loops:"
  "$bin/psql" -h "$host" -p "${port:-5432}" -U "${user:-steller}" -d "${db:-steller}" -X -q -tA -F ' ' -c "
    select '  ' || n.name || ': ' || coalesce(string_agg(a.application_name, ','), 'nobody')
      from unnest(array['fulfilment-poller', 'hold-expiry', 'pending-order-timeout', 'reservation-expiry']) as n(name)
      left join pg_locks l on l.locktype = 'advisory' and l.granted and l.objsubid = 2
           and l.classid::bigint = (hashtext('steller.projection.loop')::bigint & 4294967295)
           and l.objid::bigint = (hashtext(n.name)::bigint & 4294967295)
      left join pg_stat_activity a on a.pid = l.pid
     group by n.name order by n.name" \
    2>/dev/null || echo "  (could not ask the database)"
}

down() {
  for f in "$STATE"/node-*.pid "$STATE"/simulator.pid; do
    [ -f "$f" ] || continue
    if alive "$f"; then
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do running "$pid" || break; sleep 0.5; done
      if running "$pid"; then say "$f: pid $pid did not stop in 30 s; killing it"; kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -f "$f"
  done
  if [ -f "$STATE/pg-started" ]; then
    read -r bin data < "$STATE/pg-started"
    steller_pg_as_owner "$bin/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
    rm -f "$STATE/pg-started"
    say "PostgreSQL stopped"
  fi
  if [ -f .steller/nginx/steller-nginx.pid ] && kill -0 "$(cat .steller/nginx/steller-nginx.pid)" 2>/dev/null; then
    say "nginx from .steller/nginx still runs (pid $(cat .steller/nginx/steller-nginx.pid)); stop it with: nginx -p \"\$PWD/.steller/nginx\" -c \"\$PWD/$STATE/nginx-standalone.conf\" -s quit"
  fi
  say "cluster down"
}

case "${1:-}" in
  up) up ;;
  start) start "${2:-}" ;;
  down) down ;;
  status) status ;;
  *) echo "usage: scripts/cluster.sh up|status|start N|down   (docs/cluster.md)" >&2; exit 2 ;;
esac
