#!/usr/bin/env bash
# Starts the servers the suite talks to, as the tests expect them: PostgreSQL on 127.0.0.1:5432
# where user `postgres` reaches database `test` without a password, and Redis on 127.0.0.1:6379.
# Each step is skipped when already true, so a machine that runs these services itself is left alone.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
as_postgres() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! port_open 5432 && command -v pg_ctlcluster >/dev/null; then
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 50); do port_open 5432 && break; sleep 0.2; done
fi
if port_open 5432 && ! psql -h 127.0.0.1 -U postgres -d postgres -w -Atc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian cluster asks for a password on TCP: let `postgres` in from loopback only.
  hba=$(as_postgres psql -Atc 'show hba_file')
  if ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    as_postgres psql -qAtc 'select pg_reload_conf()' >/dev/null
  fi
fi
if port_open 5432 && ! psql -h 127.0.0.1 -U postgres -d test -w -Atc 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -w -qc 'create database test'
fi

if ! port_open 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do port_open 6379 && break; sleep 0.1; done
fi
