#!/usr/bin/env bash
# Idle cost of one API node (issue 11: "an idle node under 2 % of a core"). Starts a private PostgreSQL, the vendor
# simulator and the API with run.sh's sandbox settings, waits until it is ready and then --warm seconds, then reads the API's CPU time (/proc/<pid>/stat utime+stime)
# and that of its PostgreSQL backends over a window, and counts the database sessions the node holds.
#
#   bench/idle.sh [--api-dir DIR] [--sim-dir DIR] [--warm SECONDS] [--window SECONDS] [--runs N]
#
# Without --api-dir it builds and runs this checkout's API (Release). Pass an older build's bin/Release/net10.0 folder as
# --api-dir to compare. Ports: STELLER_PG_PORT (55440), STELLER_PORT (5180), STELLER_VENDOR_SIMULATOR_PORT (5190).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh

API_DIR="" SIM_DIR="" WARM=60 WINDOW=60 RUNS=1
while [ $# -gt 0 ]; do
  case "$1" in
    --api-dir) API_DIR="$(cd "$2" && pwd)"; shift 2 ;;
    --sim-dir) SIM_DIR="$(cd "$2" && pwd)"; shift 2 ;;
    --warm) WARM="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
PG_PORT="${STELLER_PG_PORT:-55440}" PORT="${STELLER_PORT:-5180}" SIM_PORT="${STELLER_VENDOR_SIMULATOR_PORT:-5190}"
API_PID="" SIM_PID=""
for p in "$PORT" "$SIM_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use: pick free ones (see the top of this script)" >&2; exit 1; fi
done
cleanup() {
  for p in $API_PID $SIM_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  steller_pg_down
}
trap cleanup EXIT

if [ -z "$API_DIR" ]; then
  dotnet build src/Api/Steller.Api.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
  API_DIR="$PWD/src/Api/bin/Release/net10.0"
fi
if [ -z "$SIM_DIR" ]; then
  dotnet build src/VendorSimulator/Steller.VendorSimulator.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
  SIM_DIR="$PWD/src/VendorSimulator/bin/Release/net10.0"
fi

# pg_stat_statements: which statements the idle node sends, and how often.
STELLER_PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements" steller_pg_up idle "$PG_PORT" durable
steller_pg_database steller_idle
"$STELLER_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U steller -d steller_idle -qc "create extension if not exists pg_stat_statements" >/dev/null
psql_() { "$STELLER_PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U steller -d steller_idle -tAc "$1"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime, in clock ticks
HZ=$(getconf CLK_TCK)

(cd "$SIM_DIR" && exec dotnet Steller.VendorSimulator.dll --urls "http://127.0.0.1:$SIM_PORT" --Simulator:Sandbox=true) >/dev/null 2>&1 &
SIM_PID=$!
mkdir -p .steller
for run in $(seq 1 "$RUNS"); do
  (
    export STELLER__DATABASE__CONNECTIONSTRING="Host=127.0.0.1;Port=$PG_PORT;Database=steller_idle;Username=steller;Application Name=idle-node"
    export ASPNETCORE_ENVIRONMENT=Development STELLER__SECURITY__MASTERKEYFILE="$PWD/.steller/idle-master.key"
    export STELLER__WEBHOOKS__ALLOWPRIVATETARGETS=true STELLER__DEMO__SEED=true STELLER__DEMO__CREDENTIALSFILE="$PWD/.steller/idle-demo.txt"
    export STELLER__DEMO__BASEURL="http://127.0.0.1:$PORT"
    export STELLER__VENDORS__GIFTCARD__BASEURL="http://127.0.0.1:$SIM_PORT/giftcard/" STELLER__VENDORS__GIFTCARD__CLIENTID=sandbox-client
    export STELLER__VENDORS__GIFTCARD__CLIENTSECRET=sandbox-secret STELLER__VENDORS__GIFTCARD__ACCOUNTID=sandbox-account
    export STELLER__VENDORS__TOPUP__BASEURL="http://127.0.0.1:$SIM_PORT/topup/" STELLER__VENDORS__TOPUP__APIKEY=sandbox-api-key
    cd "$API_DIR" && exec dotnet Steller.Api.dll --urls "http://127.0.0.1:$PORT"
  ) >.steller/idle-api.log 2>&1 &
  API_PID=$!
  for _ in $(seq 1 120); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$API_PID" 2>/dev/null || { echo "the API did not start; see .steller/idle-api.log" >&2; exit 1; }
    sleep 0.5
  done
  # Ready: migrated, seeded, every follower caught up; then the warm-up (JIT, first timers) before the window.
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/ready")" = 200 ] && break
    sleep 0.5
  done
  sleep "$WARM"
  backends=$(psql_ "select string_agg(pid::text, ' ') from pg_stat_activity where application_name = 'idle-node'")
  sessions=$(echo "$backends" | wc -w)
  api0=$(ticks "$API_PID"); pg0=0; for b in $backends; do pg0=$((pg0 + $(ticks "$b"))); done
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  psql_ "select pg_stat_statements_reset()" >/dev/null
  sleep "$WINDOW"
  api1=$(ticks "$API_PID"); pg1=0; for b in $backends; do pg1=$((pg1 + $(ticks "$b"))); done
  awk -v a=$((api1 - api0)) -v p=$((pg1 - pg0)) -v hz="$HZ" -v w="$WINDOW" -v s="$sessions" -v l="$load" -v d="$API_DIR" 'BEGIN {
    printf "idle API: %.2f %% of a core, its PostgreSQL backends %.2f %%, %d sessions (over %d s; load %s) %s\n",
      100 * a / hz / w, 100 * p / hz / w, s, w, l, d }'
  psql_ "select sum(calls) || ' statements, top: ' || string_agg(calls || ' x ' || left(regexp_replace(query, '\s+', ' ', 'g'), 70), ' | ' order by calls desc)
           from (select * from pg_stat_statements s join pg_database d on d.oid = s.dbid and d.datname = 'steller_idle' order by calls desc) t" \
    | sed 's/ | /\n    /g'
  kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=""
done
