#!/usr/bin/env bash
# Packs Hubbub and its client SDK as a registry would serve them, installs both into examples/team-app (a team's
# own Nest app) and runs that app's tests: a broken export, a file missing from the package or a DI seam that no
# longer works fails here. The app pins other Nest 12.x versions than this repository's lock: @nestjs/*, rxjs and
# reflect-metadata are Hubbub's peer dependencies, so it runs on the app's one copy of Nest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .pack
rm -f .pack/*.tgz
hubbub=$(npm pack --silent --pack-destination .pack | tail -n 1)
mv ".pack/$hubbub" .pack/hubbub.tgz
client=$(cd client && npm pack --silent --pack-destination ../.pack | tail -n 1)
mv ".pack/$client" .pack/hubbub-client.tgz
cd examples/team-app
rm -rf node_modules/hubbub node_modules/hubbub-client
npm install --no-package-lock --no-audit --no-fund --loglevel=error
ours=$(node -p "require('../../node_modules/@nestjs/core/package.json').version")
theirs=$(node -p "require('@nestjs/core/package.json').version")
echo "example-test: Nest core ${theirs} in the team app, ${ours} in Hubbub's lock"
if [ "$ours" = "$theirs" ]; then
  echo "example-test: the team app must run another Nest version than the lock" >&2
  exit 1
fi
if [ -e node_modules/hubbub/node_modules/@nestjs ]; then
  echo "example-test: hubbub brought its own copy of @nestjs/* (they must be peer dependencies)" >&2
  exit 1
fi
npm test
