#!/usr/bin/env bash
# Packs Hubbub and its client SDK as a registry would serve them, installs both into examples/team-app (a team's
# own Nest app) and runs that app's tests: a broken export, a file missing from the package or a DI seam that no
# longer works fails here.
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
npm test
