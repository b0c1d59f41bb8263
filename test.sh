#!/usr/bin/env bash
# Runs every test in the solution against a private PostgreSQL under .steller/pg-test (installed and started
# if needed, stopped afterwards if this script started it), then prints one total line:
#   N passed, N failed, N skipped
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Gap").
set -uo pipefail
cd "$(dirname "$0")"
source scripts/postgres.sh
set +e

# Ctrl-C or SIGTERM stops the tests and the PostgreSQL this script started, and ends the script there.
trap 'steller_pg_down' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
TEST_PG_PORT="${STELLER_TEST_PG_PORT:-55433}"
steller_pg_up pg-test "$TEST_PG_PORT" fast || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
export STELLER_TEST_DATABASE="Host=127.0.0.1;Port=$TEST_PG_PORT;Username=steller;Database=postgres"
export STELLER_ESDB_CONNECTION="${STELLER_ESDB_CONNECTION:-}"

# Non-.NET helpers some tests drive (an RFC 9421 signer from npm). Without node those tests report Ignored.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/tools --no-audit --no-fund --loglevel=error >/dev/null 2>&1 \
    || echo "steller: 'npm ci --prefix tests/tools' failed; the npm interoperability test will be ignored" >&2
fi

log=$(mktemp)
echo "steller: building..." >&2
if ! dotnet build Steller.sln -c Release -nologo -v quiet -clp:ErrorsOnly > "$log" 2>&1; then
  cat "$log"
  echo "build failed"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

results=$(mktemp -d)
status=0
# One test project at a time, each with its own TRX report: concurrency tests get both cores to themselves.
for project in $(find tests -name '*.Tests.csproj' | sort); do
  name=$(basename "$project" .csproj)
  dotnet test "$project" -c Release --no-build -nologo --results-directory "$results" --logger "trx;LogFileName=$name.trx" "$@" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# Sum the counters of every test assembly's TRX report. Skipped tests are the ones not executed: NUnit's
# ignored tests (e.g. a fixture whose server is not configured) leave notExecuted at 0 but total > executed.
read -r passed failed skipped < <(cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' \
  | sed -E 's/.* total="([0-9]+)" executed="([0-9]+)" passed="([0-9]+)" failed="([0-9]+)".*/\1 \2 \3 \4/' \
  | awk '{p+=$3; f+=$4; s+=$1-$2} END {printf "%d %d %d\n", p, f, s}')
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a crashed test host counts as a failure
# Name every failed test and the first line of its message again at the very end, where a reader of a long
# log (or of its tail) finds it.
if [ "$failed" -gt 0 ]; then
  echo "Failed tests:"
  for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    perl -0ne 'while (/<UnitTestResult\b([^>]*)>/g) { my $a = $1; next if $a =~ m{/$} || $a !~ /outcome="Failed"/;
      my ($n) = $a =~ /testName="([^"]*)"/; my $end = index($_, "</UnitTestResult>", pos());
      my ($m) = substr($_, pos(), $end < 0 ? 0 : $end - pos()) =~ /<Message>([^<]*)/; $m //= ""; $m =~ s/\s+/ /g;
      print "  $n: ", substr($m, 0, 300), "\n" }' "$trx" || true
  done
fi
rm -rf "$results"
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
