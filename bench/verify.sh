#!/usr/bin/env bash
# Hash-chain verification benchmark (issue 16): writes N events (default 1,000,000, wallet-capture-sized data and real-shaped
# metadata) into es.events of a fresh database on a private fast-mode cluster, seals them with `steller ledger seal`, then
# times `steller ledger verify` end to end (process start, migrations check, recompute, compare). See docs/benchmarks.md.
#   ./bench/verify.sh [--events 1000000] [--port 55446]
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root" || exit 1
events=1000000
port="${STELLER_BENCH_VERIFY_PORT:-55446}"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    *) echo "bench: unknown option '$1' (--events N, --port P)" >&2; exit 2 ;;
  esac
done
source scripts/postgres.sh
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
set +e
dotnet build src/Cli/Steller.Cli.csproj -c Release -nologo -v quiet -clp:ErrorsOnly || exit 1
trap 'steller_pg_down' EXIT INT TERM
steller_pg_up pg-bench-verify "$port" fast || exit 1
psql=("$(steller_pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U steller)
db="verify_bench_$$"
"${psql[@]}" -d postgres -c "create database $db" || exit 1
export STELLER__Database__ConnectionString="Host=127.0.0.1;Port=$port;Username=steller;Database=$db"
cli=(dotnet "$root/src/Cli/bin/Release/net10.0/steller.dll")
"${cli[@]}" migrate >/dev/null || exit 1

echo "bench: writing $events events (50,000 per transaction)..." >&2
start=$(date +%s.%N)
"${psql[@]}" -d "$db" -c "
do \$\$
declare n bigint := $events; b bigint := 0;
begin
  while b < n loop
    insert into es.events (stream_id, revision, event_id, event_type, data, metadata, recorded_at)
    select 'wallet-p' || (i % 1000) || '-EUR', i / 1000, gen_random_uuid(), 'wallet.hold-captured.v1',
           format('{\"transferId\":\"t-%s\",\"amount\":%s,\"legs\":[{\"account\":\"platform:vendor:acme:EUR\",\"amount\":%s},'
                  '{\"account\":\"platform:revenue:EUR\",\"amount\":%s}],\"orderId\":\"o-%s\"}',
                  md5(i::text), 2500 + i % 997, 2300 + i % 997, 200, md5((i * 7)::text))::json,
           format('{\"correlationId\":\"corr-%s\",\"causationId\":\"cmd-%s\",\"commandId\":\"%s\",\"actor\":\"partner:p%s\",'
                  '\"recordedAt\":\"%s\"}', md5((i * 3)::text), md5((i * 5)::text), gen_random_uuid(), i % 1000,
                  to_char(now() - (n - i) * interval '1 millisecond', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))::json,
           now() - (n - i) * interval '1 millisecond'
    from generate_series(b, least(b + 50000, n) - 1) as i;
    commit;
    b := b + 50000;
  end loop;
end \$\$;" -c "vacuum analyze es.events" || exit 1
echo "bench: written in $(elapsed "$start") s; $("${psql[@]}" -d "$db" -Atc "select pg_size_pretty(pg_total_relation_size('es.events')) || ' (' || round(avg(octet_length(data::text) + octet_length(metadata::text))) || ' bytes of data+metadata per event)' from es.events")" >&2

echo "bench: sealing..." >&2
start=$(date +%s.%N)
"${cli[@]}" ledger seal || exit 1
echo "bench: sealed in $(elapsed "$start") s" >&2

status=0
for run in 1 2 3; do
  start=$(date +%s.%N)
  "${cli[@]}" ledger verify | tail -3 || status=1
  echo "bench: verify run $run: $(elapsed "$start") s wall clock (process included)"
done
"${psql[@]}" -d postgres -c "drop database $db" >/dev/null
exit $status
