#!/usr/bin/env bash
# Wallet command pipeline benchmark: holds+captures per second, 64 clients on one hot wallet vs spread over 1,000
# wallets, plus a naive load-decide-append-retry baseline, in one run; p50/p99 command latency. See docs/benchmarks.md.
#   ./bench/wallets.sh [--mode fast|durable|both] [--seconds 10] [--clients 64] [--rounds 2]
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
dotnet build bench/Steller.Bench.Wallets/Steller.Bench.Wallets.csproj -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
dll="$root/bench/Steller.Bench.Wallets/bin/Release/net10.0/Steller.Bench.Wallets.dll"
status=0
for mode in $modes; do
  if [ "$mode" = fast ]; then name=pg-bench-fast; port="${STELLER_BENCH_FAST_PORT:-55440}"
  else name=pg-bench-durable; port="${STELLER_BENCH_DURABLE_PORT:-55441}"; fi
  trap 'steller_pg_down' EXIT INT TERM
  steller_pg_up "$name" "$port" "$mode" || { status=1; continue; }
  dotnet "$dll" --admin "Host=127.0.0.1;Port=$port;Username=steller;Database=postgres" --mode "$mode" "${pass[@]}" || status=1
  steller_pg_down
  trap - EXIT INT TERM
done
exit $status
