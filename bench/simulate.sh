#!/usr/bin/env bash
# The seeded fault simulation at scale (issue 17): runs many generated scenarios against real API processes, the vendor
# simulator and a private PostgreSQL, printing one line per scenario as it ends and a summary (scenarios run, failures
# with their seeds). Each failure is replayed alone with: STELLER_SIM_SEED=<seed> ./test.sh --filter Simulation
#   ./bench/simulate.sh [--scenarios 1000] [--seed N] [--port 55448] [--quarantine none|drop-connections]
#   --seed N       consecutive seeds from N (default: a random first seed, printed)
#   --quarantine   fault kinds to generate but not inflict (known bugs; default: the test's default; "none": every kind)
# The scenarios run in one `dotnet test` of the Simulation test (a failure gets a fresh database and processes, the run
# goes on). Logs: .steller/simulate/last.log.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
scenarios=1000
seed=""
port="${STELLER_SIM_PG_PORT:-55448}"
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) scenarios="${2:-}"; shift 2 ;;
    --seed) seed="${2:-}"; shift 2 ;;
    --port) port="${2:-}"; shift 2 ;;
    --quarantine) export STELLER_SIM_QUARANTINE="${2:-}"; shift 2 ;;
    *) echo "simulate: unknown option '$1' (--scenarios N, --seed N, --port P, --quarantine KINDS)" >&2; exit 2 ;;
  esac
done
[[ "$scenarios" =~ ^[0-9]+$ ]] && [ "$scenarios" -gt 0 ] || { echo "simulate: --scenarios takes a positive whole number" >&2; exit 2; }
[ -z "$seed" ] || [[ "$seed" =~ ^[0-9]+$ ]] || { echo "simulate: --seed takes a non-negative whole number" >&2; exit 2; }
source scripts/postgres.sh
set +e
echo "simulate: building..." >&2
dotnet build Steller.sln -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
trap 'steller_pg_down' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
steller_pg_up pg-simulate "$port" fast || exit 1
export STELLER_TEST_DATABASE="Host=127.0.0.1;Port=$port;Username=steller;Database=postgres"
export STELLER_SIM_SCENARIOS="$scenarios"
unset STELLER_SIM_SEED
if [ -n "$seed" ]; then export STELLER_SIM_FIRST_SEED="$seed"; else unset STELLER_SIM_FIRST_SEED; fi
mkdir -p .steller/simulate
log=.steller/simulate/last.log
start=$(date +%s)
# Every scenario's line (SIM ...) as it ends; everything else to the log.
dotnet test tests/Steller.Cli.Tests/Steller.Cli.Tests.csproj -c Release --no-build -nologo \
  --filter "FullyQualifiedName~Simulation.SimulationTests" --logger "console;verbosity=normal" 2>&1 \
  | tee "$log" | grep --line-buffered -E '^SIM ' \
  | awk -v total="$scenarios" '/^SIM seed/ { n++; printf "[%d/%d] %s\n", n, total, $0; fflush(); next } { print; fflush() }'
status=${PIPESTATUS[0]}
ran=$(grep -c '^SIM seed [0-9]*: ' "$log")
failed=$(grep -E '^SIM seed [0-9]+: FAIL' "$log" | sed -E 's/^SIM seed ([0-9]+):.*/\1/' | paste -sd, -)
echo "simulate: $ran scenario(s) in $(( $(date +%s) - start )) s; failed: ${failed:-none}"
[ -n "$failed" ] && echo "simulate: replay one with STELLER_SIM_SEED=<seed> ./test.sh --filter Simulation (details in $log)"
exit "$status"
