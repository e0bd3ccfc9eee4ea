#!/usr/bin/env bash
# Installs everything Accord needs on a fresh Debian/Ubuntu machine:
# system packages, a virtualenv with the Python dependencies, and the
# front-end packages served to browsers. Safe to run again: each step is
# skipped when already done.
#
#   scripts/setup.sh          runtime only (what `make run` needs)
#   scripts/setup.sh --test   runtime plus Chromium and the test tools
set -euo pipefail

cd "$(dirname "$0")/.."
WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

runtime_pkgs=(python3 python3-venv python3-dev gcc pkg-config libffi-dev
              fonts-noto-cjk fonts-wqy-microhei nodejs npm openssl)
test_pkgs=(chromium poppler-utils libnss3-tools postgresql redis-server)

wanted=("${runtime_pkgs[@]}")
[[ $WANT_TEST -eq 1 ]] && wanted+=("${test_pkgs[@]}")
have_elsewhere() {
  # node/npm may come from nvm or nodesource; python3 may be a pyenv build with venv and headers.
  case "$1" in
    nodejs|npm) command -v node >/dev/null && command -v npm >/dev/null ;;
    python3|python3-venv|python3-dev)
      python3 -c 'import venv, sysconfig, os; assert os.path.exists(sysconfig.get_paths()["include"] + "/Python.h")' 2>/dev/null ;;
    # A database or cache server already answering on its port (another install, a container) will do.
    postgresql) (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null ;;
    redis-server) (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null ;;
    *) return 1 ;;
  esac
}
clean=()
for p in "${wanted[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || have_elsewhere "$p" || clean+=("$p")
done
if [[ ${#clean[@]} -gt 0 ]]; then
  echo "setup: installing system packages: ${clean[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${clean[@]}"
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.accord-installed
extras="."
[[ $WANT_TEST -eq 1 ]] && extras=".[test]"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" || "$(cat "$stamp" 2>/dev/null)" != "$extras" && $WANT_TEST -eq 1 ]]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e "$extras"
  echo "$extras" > "$stamp"
fi

# Front-end dependencies: installed from the npm registry, served from
# node_modules by the server (never copied into the repository).
if [[ ! -f web_client/node_modules/.package-lock.json || web_client/package.json -nt web_client/node_modules/.package-lock.json ]]; then
  (cd web_client && npm install --no-audit --no-fund --silent)
fi
echo "setup: done"
