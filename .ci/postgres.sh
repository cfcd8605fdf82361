#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages when missing, starts it, makes a role and a
# database for the tests, and prints the URL (TENPAY_TEST_POSTGRES_URL).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$ver main"; then
  pg_createcluster "$ver" main >&2
fi
pg_ctlcluster "$ver" main start >&2 2>/dev/null || true
for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p 5432 >&2
su postgres -c "psql -v ON_ERROR_STOP=1 -q" >&2 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenpay') THEN
    CREATE ROLE tenpay LOGIN PASSWORD 'tenpay';
  END IF;
  -- Tests that need a database of their own make one.
  ALTER ROLE tenpay CREATEDB;
END $$;
SQL
if ! su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = 'tenpay_test'\"" | grep -q 1; then
  su postgres -c "createdb -O tenpay tenpay_test" >&2
fi
echo "postgres://tenpay:tenpay@127.0.0.1:5432/tenpay_test"
