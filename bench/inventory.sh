#!/usr/bin/env bash
# Stock reservation benchmark: reservations per second, 64 clients on one hot sku vs spread over 1,000 skus,
# in one run; p50/p99 command latency and the hot/spread ratio. See docs/benchmarks.md.
#   ./bench/inventory.sh [--mode fast|durable|both] [--seconds 8] [--clients 64] [--rounds 2] [--skus 1000]
set -uo pipefail
source "$(dirname "$0")/lib.sh"
bench_modes pg-bench-inv Steller.Bench.Inventory "${STELLER_BENCH_INVENTORY_FAST_PORT:-55444}" "${STELLER_BENCH_INVENTORY_DURABLE_PORT:-55445}" "$@"
