#!/usr/bin/env bash
# Rebuilds the forwarding package bench/local-packages/patched.distributedlock.postgres.1.3.3.nupkg from src/.
# The .nupkg is committed so `dotnet build Steller.sln` restores with no extra step; run this only after editing src/.
# Marten 9.58.0 -> Weasel.Postgresql 9.49.0 -> Patched.DistributedLock.Postgres 1.3.3 (absent from the registry here);
# the package only depends on DistributedLock.Postgres 1.3.1, which ships the same DistributedLock.Postgres.dll.
set -euo pipefail
cd "$(dirname "$0")"
out="$PWD/patched.distributedlock.postgres.1.3.3.nupkg"
rm -f "$out"
# Fixed timestamps keep the bytes identical from one run to the next.
(cd src && touch -d '2020-01-01T00:00:00Z' Patched.DistributedLock.Postgres.nuspec '[Content_Types].xml' \
  && zip -X -q "$out" Patched.DistributedLock.Postgres.nuspec '[Content_Types].xml')
# A stale extracted copy would hide edits: drop it from the global packages folder.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/patched.distributedlock.postgres/1.3.3"
echo "wrote $out"
