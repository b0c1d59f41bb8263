#!/usr/bin/env bash
# Private PostgreSQL for Steller: installs Debian's server if absent, keeps a cluster under .steller/,
# binds it to 127.0.0.1 on its own port, and re-uses it when it is already running.
# Sourced by run.sh and test.sh. Usage: steller_pg_up NAME PORT [fast]   then   steller_pg_down
set -euo pipefail

STELLER_ROOT="${STELLER_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
STELLER_PG_STARTED=""

steller_pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; fi
}

steller_pg_install() {
  echo "steller: PostgreSQL server not found; installing Debian's postgresql package..." >&2
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "steller: need root (or sudo) to install PostgreSQL: apt-get install postgresql. Or set STELLER__DATABASE__CONNECTIONSTRING to a server you have." >&2
      return 1
    fi
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  # Don't let the package start its own cluster on 5432; Steller runs a private one.
  $sudo mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/steller.conf >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null
}

# Runs a PostgreSQL tool as the cluster's owner: initdb and postgres refuse root.
steller_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

steller_pg_up() {
  local name="$1" port="$2" mode="${3:-durable}"
  local bin; bin=$(steller_pg_bin)
  if [ -z "$bin" ]; then steller_pg_install; bin=$(steller_pg_bin); fi
  [ -n "$bin" ] || { echo "steller: PostgreSQL install did not provide pg_ctl" >&2; return 1; }

  local home="$STELLER_ROOT/.steller/$name"
  mkdir -p "$STELLER_ROOT/.steller"
  if [ "$(id -u)" = 0 ] && [ ! -e "$home" ]; then
    # The postgres user must be able to reach the data folder; a checkout under /root, say, is not reachable.
    mkdir -p "$home"; chown postgres:postgres "$home"
    if ! (cd / && runuser -u postgres -- test -w "$home"); then
      rmdir "$home"
      local outside="/var/lib/steller/$(echo -n "$STELLER_ROOT" | md5sum | cut -c1-12)-$name"
      mkdir -p "$outside"; chown postgres:postgres "$outside"; chmod 700 "$outside"
      ln -s "$outside" "$home"
      echo "steller: $STELLER_ROOT is not reachable by the postgres user; cluster kept in $outside (linked from .steller/$name)" >&2
    fi
  fi
  mkdir -p "$home"
  local data="$home/data" sock="$home/run" log="$home/postgres.log"
  mkdir -p "$sock"; touch "$log"
  # Tolerant: a server still shutting down removes files (postmaster.pid) while chown walks the folder.
  if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$home/" 2>/dev/null || true; fi

  if [ ! -f "$data/PG_VERSION" ]; then
    echo "steller: creating PostgreSQL cluster in .steller/$name" >&2
    # Trust on a loopback-only private cluster: nothing outside this machine can connect.
    steller_pg_as_owner "$bin/initdb" -D "$data" -U steller --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi

  local opts="-c listen_addresses=127.0.0.1 -p $port -k $sock -c max_connections=400 -c shared_buffers=256MB"
  if [ "$mode" = fast ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  # Extra server settings for this start (the benches count statements with pg_stat_statements).
  [ -n "${STELLER_PG_EXTRA_OPTS:-}" ] && opts="$opts $STELLER_PG_EXTRA_OPTS"

  if steller_pg_as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "steller: re-using PostgreSQL already running in .steller/$name" >&2
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "steller: 127.0.0.1:$port is already taken by another server; choose a free port (STELLER_PG_PORT for run.sh, STELLER_TEST_PG_PORT for test.sh)" >&2
      return 1
    fi
    local tries=0
    # After a kill -9 the old postmaster can linger as <defunct> for a moment: retry.
    until steller_pg_as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 30 -o "$opts" start >/dev/null; do
      tries=$((tries + 1))
      if [ $tries -ge 5 ]; then echo "steller: PostgreSQL did not start; see $log" >&2; tail -n 20 "$log" >&2; return 1; fi
      sleep 2
    done
    STELLER_PG_STARTED="$data"
    echo "steller: PostgreSQL started on 127.0.0.1:$port (.steller/$name, $mode)" >&2
  fi
  STELLER_PG_BIN="$bin"
  STELLER_PG_PORT="$port"
}

# Creates database $1 on the private cluster when missing.
steller_pg_database() {
  local db="$1"
  if ! "$STELLER_PG_BIN/psql" -h 127.0.0.1 -p "$STELLER_PG_PORT" -U steller -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
    "$STELLER_PG_BIN/createdb" -h 127.0.0.1 -p "$STELLER_PG_PORT" -U steller "$db"
  fi
}

# Stops the cluster only if this script started it.
steller_pg_down() {
  if [ -n "$STELLER_PG_STARTED" ]; then
    steller_pg_as_owner "$STELLER_PG_BIN/pg_ctl" -D "$STELLER_PG_STARTED" -m fast stop >/dev/null 2>&1 || true
    echo "steller: PostgreSQL stopped" >&2
    STELLER_PG_STARTED=""
  fi
}
