#!/usr/bin/env bash
# Order benchmark over signed HTTP: placement latency at open-loop arrival rates (100, 300, 1,000 orders/s), the highest
# rate with p99 < 100 ms, and placement-to-completion latency at 50/s, against the built API and vendor simulator as
# child processes on 127.0.0.1, per PostgreSQL durability mode. See docs/benchmarks.md.
#   ./bench/orders.sh [--mode fast|durable|both] [--seconds 10] [--rates 100,300,1000] [--search-seconds 5] [--search-max 1600]
#                     [--completion-rate 50] [--completion-seconds 10] [--partners 10] [--jit-settle-seconds 150 (0: skip)]
#                     [--crud-seconds 5 (0: skip)] [--crud-partners 1000] [--crud-concurrency 32]
#                     [--vendor-limit R [--vendor-limited-rate 50] [--vendor-limited-seconds 5] [--vendor-limited-window 120]
#                      [--max-lines-per-checkout N]] [--api-setting Key=Value ...]
#                     [--webhook-rates 100,300 [--webhook-seconds 10]] [--api-max-pool N (0, the default: Steller's own, 30)]
#                     [--poll-ms 100 (section 3 polls each order this often for a second, then backs off to 1 s)]
# Section 4 runs a plain CRUD placement (bench/Steller.Bench.Crud) beside Steller: Steller / CRUD throughput and p99.
# --vendor-limit R runs only section 5: fulfilment against a gift-card vendor allowing R requests/s (orders completed per
# second, what the vendor saw, lines per checkout). --api-setting passes a setting to the API under test, e.g.
# --api-setting RateLimits:Enabled=false --api-setting Partners:RequestLogEnabled=false (the request log and rate limiter off).
# --webhook-rates runs only section 6: webhook delivery lag (event -> local receiver's 2xx) p50/p99 and deliveries/s per rate.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/bench/lib.sh"
# The bench project references the API and the vendor simulator, so its build builds them too (Release).
bench_modes pg-bench-orders Steller.Bench.Orders "${STELLER_BENCH_ORDERS_FAST_PORT:-55446}" "${STELLER_BENCH_ORDERS_DURABLE_PORT:-55447}" "$@" -- \
  --api-dll "$root/src/Api/bin/Release/net10.0/Steller.Api.dll" --sim-dll "$root/src/VendorSimulator/bin/Release/net10.0/Steller.VendorSimulator.dll"
