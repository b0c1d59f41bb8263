#!/usr/bin/env bash
# Wallet command pipeline benchmark: holds+captures per second, 64 clients on one hot wallet vs spread over 1,000
# wallets, plus a naive load-decide-append-retry baseline, in one run; p50/p99 command latency. See docs/benchmarks.md.
#   ./bench/wallets.sh [--mode fast|durable|both] [--seconds 10] [--clients 64] [--rounds 2] [--raw-connection]
# The pipeline connects as a Steller node does (StorageRegistration.PooledConnectionString); --raw-connection uses
# Npgsql's defaults and a pool of 200 instead, as this bench did before 2026-12-03.
# Cold start instead (one wallet of N events; the first command after a restart with snapshots off and on):
#   ./bench/wallets.sh --mode fast --cold-start 1000000 [--rounds 1]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
bench_modes pg-bench Steller.Bench.Wallets "${STELLER_BENCH_FAST_PORT:-55440}" "${STELLER_BENCH_DURABLE_PORT:-55441}" "$@"
