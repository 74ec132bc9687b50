#!/usr/bin/env bash
# Make sure Node.js (>= 18) and npm are installed: the TypeScript types, the bundled-schema package
# and the Ajv agreement check in ts/ need them. Installs Debian's nodejs and npm packages only when
# missing; then installs ts/node_modules from the committed lockfile (npm ci, registry only) unless
# it is already up to date with ts/package-lock.json. Safe to run repeatedly.
# Generation and the agreement run on Node 18; the package itself declares Node >= 20 (engines)
# and its consumer-project tests (ts/test/consumers.mjs, `nox -s typescript`) need Node >= 20.10
# (JSON import attributes): Debian 12's nodejs is 18.19, so install Node 20+ (NodeSource, or
# Debian 13's nodejs) where those tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

node_ok() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
        node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'
}

if ! node_ok; then
    echo "ensure-node: installing nodejs and npm from Debian's packages"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
fi
node_ok || { echo "ensure-node: need node >= 18 and npm" >&2; exit 1; }

# npm ci only when node_modules does not match the lockfile (npm writes its own copy of the
# lockfile to node_modules/.package-lock.json on install).
stamp=ts/node_modules/.videogen-lock
if [ ! -f "$stamp" ] || ! cmp -s ts/package-lock.json "$stamp"; then
    echo "ensure-node: npm ci in ts/"
    (cd ts && npm ci --no-audit --no-fund --loglevel=error)
    cp ts/package-lock.json "$stamp"
fi
echo "ensure-node: node $(node --version), npm $(npm --version), ts/node_modules up to date"
