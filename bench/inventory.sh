#!/usr/bin/env bash
# Stock reservation benchmark: reservations per second, 64 clients on one hot sku vs spread over 1,000 skus,
# in one run; p50/p99 command latency and the hot/spread ratio. See docs/benchmarks.md.
#   ./bench/inventory.sh [--mode fast|durable|both] [--seconds 8] [--clients 64] [--rounds 2] [--skus 1000]
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
dotnet build bench/Steller.Bench.Inventory/Steller.Bench.Inventory.csproj -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
dll="$root/bench/Steller.Bench.Inventory/bin/Release/net10.0/Steller.Bench.Inventory.dll"
status=0
for mode in $modes; do
  if [ "$mode" = fast ]; then name=pg-bench-inv-fast; port="${STELLER_BENCH_INVENTORY_FAST_PORT:-55444}"
  else name=pg-bench-inv-durable; port="${STELLER_BENCH_INVENTORY_DURABLE_PORT:-55445}"; fi
  trap 'steller_pg_down' EXIT INT TERM
  steller_pg_up "$name" "$port" "$mode" || { status=1; continue; }
  dotnet "$dll" --admin "Host=127.0.0.1;Port=$port;Username=steller;Database=postgres" --mode "$mode" "${pass[@]}" || status=1
  steller_pg_down
  trap - EXIT INT TERM
done
exit $status
