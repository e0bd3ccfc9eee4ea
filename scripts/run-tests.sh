#!/usr/bin/env bash
# Runs the whole suite against the real services this machine provides (PostgreSQL, Redis)
# and Debian's Chromium; scripts/test-services.sh starts PostgreSQL and Redis first.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-services.sh

mkdir -p test-artifacts
exec .venv/bin/python -m pytest -q "$@"
