#!/usr/bin/env bash
# Bootstrap and run nox: the one entry point for the README's commands and CI.
# On a fresh Debian machine with Python 3.11 it installs what is missing (python3-venv, nox in a
# private virtualenv under .tools-venv/) and then runs `nox "$@"` from the repository root.
#
# Fast path for the schema-editing loop: `-s generate` and `-s check` (with optional `-- args`)
# run the code generators directly, without nox, in a venv cached under .nox/codegen-fast that is
# rebuilt only when tools/codegen-requirements.txt or the Python version changes (the nox
# sessions install the same file). VIDEOGEN_NOX_FULL=1 runs them through nox instead.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.tools-venv

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "tools/nox.sh: need Python >= 3.11 as '$PYTHON' (set PYTHON=...)" >&2
    exit 1
fi
need_venv_support() {
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
        as_root apt-get update -qq
        as_root apt-get install -y -qq python3-venv >/dev/null
    fi
}

if [ "${VIDEOGEN_NOX_FULL:-0}" != 1 ] && [ "${1:-}" = "-s" ] &&
    { [ "${2:-}" = generate ] || [ "${2:-}" = check ]; } && { [ $# -eq 2 ] || [ "${3:-}" = "--" ]; }; then
    session=$2
    shift 2
    [ "${1:-}" = "--" ] && shift
    fast=.nox/codegen-fast
    key="$(sha256sum tools/codegen-requirements.txt | cut -d' ' -f1) $("$PYTHON" --version 2>&1)"
    if [ ! -x "$fast/bin/python" ] || [ "$(cat "$fast/.requirements-key" 2>/dev/null)" != "$key" ]; then
        echo "nox.sh: building the code generators' venv ($fast) from tools/codegen-requirements.txt"
        need_venv_support
        rm -rf "$fast"
        "$PYTHON" -m venv "$fast"
        "$fast/bin/python" -m pip install -q --disable-pip-version-check -r tools/codegen-requirements.txt
        echo "$key" >"$fast/.requirements-key"
    fi
    if ! command -v node >/dev/null 2>&1 || ! cmp -s ts/package-lock.json ts/node_modules/.videogen-lock; then
        bash tools/ensure-node.sh
    fi
    if [ "$session" = check ]; then bash tools/ensure-services.sh >/dev/null; fi
    exec "$fast/bin/python" -m codegen "$session" "$@"
fi

if [ ! -x "$VENV/bin/nox" ]; then
    need_venv_support
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "nox==2026.10.20"
fi
exec "$VENV/bin/nox" "$@"
