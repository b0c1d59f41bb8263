#!/usr/bin/env bash
# EventStoreDB appends: Steller's adapter (over BatchAppend, and over unary Append) beside the official Node client
# (@eventstore/db-client, bench/esdb-node) on the same server with the same payloads, in one run: sequential
# single-event appends, sequential 100-event batches, 8 concurrent writers. Prints events/s and the Steller/Node ratio.
# Needs a server: STELLER_ESDB_CONNECTION (e.g. esdb://127.0.0.1:2113?tls=false); without it, says so and exits 0.
#   STELLER_ESDB_CONNECTION='esdb://127.0.0.1:2113?tls=false' ./bench/esdb.sh [--seconds 5] [--batch 100] [--writers 8] [--no-node]
# The table is also appended to bench/results/esdb.md (git-ignored). See docs/eventstoredb.md ("Speed").
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

if [ -z "${STELLER_ESDB_CONNECTION:-}" ] && [[ " $* " != *" --connection "* ]] && [[ " $* " != *" --help "* ]]; then
  echo "bench-esdb: no EventStoreDB server set (STELLER_ESDB_CONNECTION is empty); nothing measured."
  echo "  Start one (e.g. docker compose -f eventstore.compose.yml up -d) and run:"
  echo "  STELLER_ESDB_CONNECTION='esdb://127.0.0.1:2113?tls=false' ./bench/esdb.sh"
  exit 0
fi

node_args=()
if [[ " $* " != *" --no-node "* ]]; then
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    if [ ! -d bench/esdb-node/node_modules/@eventstore/db-client ]; then
      echo "bench-esdb: installing the official Node client (npm ci in bench/esdb-node)..." >&2
      npm ci --prefix bench/esdb-node --no-audit --no-fund --loglevel=error >&2 || { echo "bench-esdb: npm ci failed" >&2; exit 1; }
    fi
  else
    echo "bench-esdb: node/npm not found: measuring Steller's adapter only" >&2
    node_args=(--no-node)
  fi
fi

echo "bench-esdb: building Release..." >&2
if ! dotnet build bench/Steller.Bench.EventStoreDb/Steller.Bench.EventStoreDb.csproj -c Release -nologo -v quiet -clp:ErrorsOnly; then
  echo "bench-esdb: build failed" >&2; exit 1
fi
mkdir -p bench/results
exec dotnet bench/Steller.Bench.EventStoreDb/bin/Release/net10.0/Steller.Bench.EventStoreDb.dll --out bench/results/esdb.md "${node_args[@]}" "$@"
