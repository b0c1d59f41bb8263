#!/usr/bin/env bash
# Starts Steller on this machine. Without STELLER__DATABASE__CONNECTIONSTRING it provisions a private
# PostgreSQL under .steller/ (installing the server if needed), and the vendor simulator in sandbox mode on
# 127.0.0.1:5090 (STELLER_VENDOR_SIMULATOR=0 to skip it) with Steller's vendor settings pointing at it.
# Ctrl-C stops what it started.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh

PORT="${STELLER_PORT:-5080}"
SIM_PORT="${STELLER_VENDOR_SIMULATOR_PORT:-5090}"
SIM_ENABLED="${STELLER_VENDOR_SIMULATOR:-1}"
API_PID=""
SIM_PID=""
# A second ./run.sh (or anything else on these ports) would fail late with a stack trace: say so now.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_busy "$PORT"; then
  echo "steller: port $PORT on 127.0.0.1 is in use (another ./run.sh?); stop it or pick another with STELLER_PORT=..." >&2; exit 1
fi
if [ "$SIM_ENABLED" != "0" ] && port_busy "$SIM_PORT"; then
  echo "steller: port $SIM_PORT on 127.0.0.1 is in use (another vendor simulator?); stop it or pick another with STELLER_VENDOR_SIMULATOR_PORT=..." >&2; exit 1
fi
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$API_PID" ] && kill -0 "$API_PID" 2>/dev/null; then kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; fi
  if [ -n "$SIM_PID" ] && kill -0 "$SIM_PID" 2>/dev/null; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
  steller_pg_down
}
# Ctrl-C or SIGTERM at any point (even during the build) stops what was started and ends the script there.
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

if [ -z "${STELLER__DATABASE__CONNECTIONSTRING:-}" ]; then
  PG_PORT="${STELLER_PG_PORT:-55432}"
  steller_pg_up pg "$PG_PORT" durable
  steller_pg_database steller
  export STELLER__DATABASE__CONNECTIONSTRING="Host=127.0.0.1;Port=$PG_PORT;Database=steller;Username=steller"
else
  echo "steller: using the configured STELLER__DATABASE__CONNECTIONSTRING; provisioning nothing" >&2
fi

echo "steller: building..." >&2
dotnet build src/Api/Steller.Api.csproj -c Release -nologo -v quiet -clp:ErrorsOnly && dotnet build src/Cli/Steller.Cli.csproj -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
[ "$SIM_ENABLED" = "0" ] || dotnet build src/VendorSimulator/Steller.VendorSimulator.csproj -c Release -nologo -v quiet -clp:ErrorsOnly
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

# The vendor simulator (docs/vendors.md) in sandbox mode: well-known sandbox credentials, loopback only, in memory.
# Its request log goes to .steller/vendor-simulator.log. Vendor settings you exported yourself win.
if [ "$SIM_ENABLED" != "0" ]; then
  mkdir -p .steller
  (cd src/VendorSimulator/bin/Release/net10.0 && exec dotnet Steller.VendorSimulator.dll --urls "http://127.0.0.1:$SIM_PORT" --Simulator:Sandbox=true) \
    > .steller/vendor-simulator.log 2>&1 &
  SIM_PID=$!
  for _ in $(seq 1 60); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SIM_PORT") 2>/dev/null && break
    kill -0 "$SIM_PID" 2>/dev/null || { echo "steller: the vendor simulator did not start (port $SIM_PORT taken?); see .steller/vendor-simulator.log" >&2; tail -5 .steller/vendor-simulator.log >&2; exit 1; }
    sleep 0.5
  done
  export STELLER__VENDORS__GIFTCARD__BASEURL="${STELLER__VENDORS__GIFTCARD__BASEURL:-http://127.0.0.1:$SIM_PORT/giftcard/}"
  export STELLER__VENDORS__GIFTCARD__CLIENTID="${STELLER__VENDORS__GIFTCARD__CLIENTID:-sandbox-client}"
  export STELLER__VENDORS__GIFTCARD__CLIENTSECRET="${STELLER__VENDORS__GIFTCARD__CLIENTSECRET:-sandbox-secret}"
  export STELLER__VENDORS__GIFTCARD__ACCOUNTID="${STELLER__VENDORS__GIFTCARD__ACCOUNTID:-sandbox-account}"
  export STELLER__VENDORS__TOPUP__BASEURL="${STELLER__VENDORS__TOPUP__BASEURL:-http://127.0.0.1:$SIM_PORT/topup/}"
  export STELLER__VENDORS__TOPUP__APIKEY="${STELLER__VENDORS__TOPUP__APIKEY:-sandbox-api-key}"
fi
# Development without Security:MasterKey: the API generates its master key once into this git-ignored file.
export STELLER__SECURITY__MASTERKEYFILE="${STELLER__SECURITY__MASTERKEYFILE:-$PWD/.steller/master.key}"
# The sandbox delivers webhooks to local receivers (http, loopback); outside it only public https targets are allowed.
export STELLER__WEBHOOKS__ALLOWPRIVATETARGETS="${STELLER__WEBHOOKS__ALLOWPRIVATETARGETS:-true}"
# Sandbox data: a demo partner with a funded EUR wallet, an API key and an admin token (secrets written once, to a file).
export STELLER__DEMO__SEED="${STELLER__DEMO__SEED:-true}"
export STELLER__DEMO__CREDENTIALSFILE="${STELLER__DEMO__CREDENTIALSFILE:-$PWD/.steller/demo.txt}"
export STELLER__DEMO__BASEURL="http://127.0.0.1:$PORT"
(cd src/Api/bin/Release/net10.0 && exec dotnet Steller.Api.dll --urls "http://127.0.0.1:$PORT") &
API_PID=$!

for _ in $(seq 1 120); do
  if command -v curl >/dev/null; then curl -fsS "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && break
  else (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; fi
  kill -0 "$API_PID" 2>/dev/null || { wait "$API_PID"; exit $?; }
  sleep 0.5
done
# What the demo wallet holds now (orders may have spent some since it was funded).
DEMO_LINE="partner \"demo\" with a funded EUR wallet; its API key and an admin token are in .steller/demo.txt"
if command -v curl >/dev/null && [ -f "$STELLER__DEMO__CREDENTIALSFILE" ]; then
  token=$(sed -n 's/^\(export \)\{0,1\}STELLER_ADMIN_TOKEN=//p' "$STELLER__DEMO__CREDENTIALSFILE")
  available=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/admin/partners/demo/wallets/EUR" 2>/dev/null \
    | grep -o '"available":-\{0,1\}[0-9]*' | cut -d: -f2 || true)
  if [ -n "$available" ]; then
    DEMO_LINE="partner \"demo\" whose EUR wallet holds $(awk -v m="$available" 'BEGIN { printf "%.2f", m / 100 }') EUR available; its API key and an admin token are in .steller/demo.txt"
  fi
fi
# The operator CLI (ledger audit, projections status, ...) talks to the database: one file to source for it.
mkdir -p .steller
printf '# Written by ./run.sh at each start: `source .steller/cli.env` before running the steller CLI against this instance.\nexport STELLER__DATABASE__CONNECTIONSTRING="%s"\n' \
  "$STELLER__DATABASE__CONNECTIONSTRING" > .steller/cli.env
SIM_LINE="Vendors     not simulated (STELLER_VENDOR_SIMULATOR=0)"
[ "$SIM_ENABLED" = "0" ] || SIM_LINE="Vendors     simulator http://127.0.0.1:$SIM_PORT (sandbox; /control/requests, log in .steller/vendor-simulator.log)"
cat >&2 <<MSG

  Steller is running.
    API         http://127.0.0.1:$PORT
    OpenAPI UI  http://127.0.0.1:$PORT/docs
    OpenAPI     http://127.0.0.1:$PORT/openapi/v1.json
    Ready?      http://127.0.0.1:$PORT/health/ready
    Demo data   $DEMO_LINE
    $SIM_LINE
    Try it      dotnet src/Cli/bin/Release/net10.0/steller.dll demo order    (a signed gift-card order, fulfilled by the simulator)
    Operate     source .steller/cli.env; dotnet src/Cli/bin/Release/net10.0/steller.dll ledger audit    (or projections status, stock audit)
  Ctrl-C stops it.

MSG
wait "$API_PID"
