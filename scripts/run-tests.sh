#!/usr/bin/env bash
# Runs the whole suite against the real services this machine provides (PostgreSQL, Redis)
# and Debian's Chromium. Starts PostgreSQL/Redis if they are installed but not running.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if command -v redis-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi

mkdir -p test-artifacts
exec .venv/bin/python -m pytest -q "$@"
