#!/usr/bin/env bash
# Bootstrap and run nox: the one entry point for the README's commands and CI.
# On a fresh Debian machine with Python 3.11 it installs what is missing (python3-venv, nox in a
# private virtualenv under .tools-venv/) and then runs `nox "$@"` from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.tools-venv

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "tools/nox.sh: need Python >= 3.11 as '$PYTHON' (set PYTHON=...)" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/nox" ]; then
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
        as_root apt-get update -qq
        as_root apt-get install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "nox==2026.10.20"
fi
exec "$VENV/bin/nox" "$@"
