# Shared by the bench scripts: build one bench project, then run it once per PostgreSQL durability mode on a private
# cluster of its own. Usage (from a bench script, after `source bench/lib.sh`):
#   bench_modes CLUSTER PROJECT FAST_PORT DURABLE_PORT [options...] [-- extra args for the bench]
# --mode fast|durable|both (default both) is taken here; every other option goes to the bench program, which also
# gets --admin (a connection string to the cluster's postgres database) and --mode.
bench_modes() {
  local prefix="$1" project="$2" fast_port="$3" durable_port="$4"; shift 4
  local root; root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  cd "$root" || return 1
  # shellcheck source=../scripts/postgres.sh
  source scripts/postgres.sh
  set +e
  local modes="fast durable" pass=() extra=() seen_dashdash=0
  while [ $# -gt 0 ]; do
    if [ "$seen_dashdash" = 1 ]; then extra+=("$1"); shift; continue; fi
    case "$1" in
      --) seen_dashdash=1; shift ;;
      --mode) modes="${2:-}"; [ "$modes" = both ] && modes="fast durable"; shift 2 ;;
      *) pass+=("$1"); shift ;;
    esac
  done
  dotnet build "bench/$project/$project.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly || return 1
  local dll="$root/bench/$project/bin/Release/net10.0/$project.dll" status=0 mode cluster port
  for mode in $modes; do
    if [ "$mode" = fast ]; then cluster="$prefix-fast"; port="$fast_port"; else cluster="$prefix-durable"; port="$durable_port"; fi
    trap 'steller_pg_down' EXIT INT TERM
    # pg_stat_statements (shipped with Debian's postgresql) lets the order bench count SQL statements per order;
    # track_commit_timestamp lets its webhook section split a delivery's lag into stages.
    STELLER_PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on -c track_commit_timestamp=on" steller_pg_up "$cluster" "$port" "$mode" || { status=1; continue; }
    dotnet "$dll" --admin "Host=127.0.0.1;Port=$port;Username=steller;Database=postgres" --mode "$mode" "${extra[@]}" "${pass[@]}" || status=1
    steller_pg_down
    trap - EXIT INT TERM
  done
  return $status
}
