#!/usr/bin/env bash
# Order benchmark over signed HTTP: placement latency at open-loop arrival rates (100, 300, 1,000 orders/s), the highest
# rate with p99 < 100 ms, and placement-to-completion latency at 50/s, against the built API and vendor simulator as
# child processes on 127.0.0.1, per PostgreSQL durability mode. See docs/benchmarks.md.
#   ./bench/orders.sh [--mode fast|durable|both] [--seconds 10] [--rates 100,300,1000] [--search-seconds 5] [--search-max 1600]
#                     [--completion-rate 50] [--completion-seconds 10] [--partners 10]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
source scripts/postgres.sh
set +e
modes="fast durable"
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) modes="${2:-}"; [ "$modes" = both ] && modes="fast durable"; shift 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
# Builds the bench, the API and the vendor simulator (project references) in Release.
dotnet build bench/Steller.Bench.Orders/Steller.Bench.Orders.csproj -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
dll="$root/bench/Steller.Bench.Orders/bin/Release/net10.0/Steller.Bench.Orders.dll"
status=0
for mode in $modes; do
  if [ "$mode" = fast ]; then name=pg-bench-orders-fast; port="${STELLER_BENCH_ORDERS_FAST_PORT:-55446}"
  else name=pg-bench-orders-durable; port="${STELLER_BENCH_ORDERS_DURABLE_PORT:-55447}"; fi
  trap 'steller_pg_down' EXIT INT TERM
  steller_pg_up "$name" "$port" "$mode" || { status=1; continue; }
  dotnet "$dll" --admin "Host=127.0.0.1;Port=$port;Username=steller;Database=postgres" --mode "$mode" \
    --api-dll "$root/src/Api/bin/Release/net10.0/Steller.Api.dll" \
    --sim-dll "$root/src/VendorSimulator/bin/Release/net10.0/Steller.VendorSimulator.dll" "${pass[@]}" || status=1
  steller_pg_down
  trap - EXIT INT TERM
done
exit $status
