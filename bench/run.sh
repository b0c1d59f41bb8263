#!/usr/bin/env bash
# Steller vs Marten on the same PostgreSQL, side by side: append and ReadAll throughput, projection rebuild speed.
# Provisions two private PostgreSQL clusters (loopback only) with scripts/postgres.sh, builds Release, and runs the
# benchmark once per durability mode, then prints every figure with its Steller/Marten ratio. See docs/benchmarks.md.
#
#   ./bench/run.sh                 full run, both modes (about 10-15 minutes on 2 cores)
#   ./bench/run.sh --quick         smoke run with small counts (about 2 minutes)
#   ./bench/run.sh --mode fast     one mode only (fast | durable | both; default both)
#   ./bench/run.sh --events 200000 --append-seconds 3 --rounds 3 ...   any Steller.Bench option (see --help)
#   STELLER_ESDB_CONNECTION='esdb://127.0.0.1:2113?tls=false' ./bench/run.sh   also Steller on that EventStoreDB
#                                  (or --esdb CONNECTION): a third column with its ratio to Steller on PostgreSQL.
#                                  Without it EventStoreDB is not measured (one line says so). None can run here, so
#                                  no EventStoreDB figures are recorded yet.
#
# The markdown tables of the run are also written to bench/results/latest.md (git-ignored).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
source scripts/postgres.sh
set +e

modes="fast durable"
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) modes="${2:-}"; [ "$modes" = both ] && modes="fast durable"; shift 2 ;;
    --help|-h) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; pass+=("--help"); shift ;;
    *) pass+=("$1"); shift ;;
  esac
done
for m in $modes; do
  case "$m" in fast|durable) ;; *) echo "bench: unknown mode '$m' (fast, durable or both)" >&2; exit 2 ;; esac
done

echo "bench: building Release..." >&2
if ! dotnet build bench/Steller.Bench/Steller.Bench.csproj -c Release -nologo -v quiet -clp:ErrorsOnly; then
  echo "bench: build failed" >&2; exit 1
fi
bench_dll="$root/bench/Steller.Bench/bin/Release/net10.0/Steller.Bench.dll"
if [[ " ${pass[*]-} " == *" --help "* ]]; then dotnet "$bench_dll" --help; exit 0; fi

mkdir -p bench/results
out="$root/bench/results/latest.md"
: > "$out"
{
  echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores (nproc), $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1), $(free -g | awk '/^Mem:/ {print $2}') GiB; commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'); arguments: ${pass[*]-(defaults)}"
  echo
} >> "$out"

status=0
for mode in $modes; do
  if [ "$mode" = fast ]; then name=pg-bench-fast; port="${STELLER_BENCH_FAST_PORT:-55440}"
  else name=pg-bench-durable; port="${STELLER_BENCH_DURABLE_PORT:-55441}"; fi
  echo >&2
  echo "bench: === $mode: PostgreSQL .steller/$name on 127.0.0.1:$port ===" >&2
  trap 'steller_pg_down' EXIT INT TERM
  if ! steller_pg_up "$name" "$port" "$mode"; then echo "bench: PostgreSQL for $mode did not start" >&2; status=1; continue; fi
  # A re-used cluster might run with other settings than this mode asks for: check before measuring.
  fsync=$("$STELLER_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U steller -d postgres -tAc "show fsync")
  want=on; [ "$mode" = fast ] && want=off
  if [ "$fsync" != "$want" ]; then
    echo "bench: cluster $name runs with fsync=$fsync but mode $mode needs fsync=$want; stop it first (pg_ctl -D .steller/$name/data stop)" >&2
    steller_pg_down; status=1; continue
  fi
  dotnet "$bench_dll" --admin "Host=127.0.0.1;Port=$port;Username=steller;Database=postgres" --mode "$mode" --out "$out" "${pass[@]}"
  rc=$?
  [ $rc -ne 0 ] && { echo "bench: $mode run failed ($rc)" >&2; status=$rc; }
  steller_pg_down
  trap - EXIT INT TERM
done

echo
echo "bench: results (also in bench/results/latest.md):"
echo
cat "$out"
exit $status
