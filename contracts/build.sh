#!/usr/bin/env bash
# The one command to build (or check) the mock contracts' artifacts.
#   contracts/build.sh          compile and write contracts_abi/*.json
#   contracts/build.sh --check  rebuild in memory; exit 1 listing stale/missing/extra artifacts
# Runs `npm ci` in contracts/ first when node_modules is missing or incomplete (npm registry only).
# Exit 2 when node/npm are not on PATH or the pinned toolchain cannot be installed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "contracts/build.sh: '$tool' is not on PATH; install Node.js >= 18 (with npm) to build the contracts." >&2
    echo "  (tests do not need it: they load the committed artifacts in contracts_abi/)" >&2
    exit 2
  fi
done

if [ ! -f "$HERE/node_modules/solc/package.json" ] || [ ! -f "$HERE/node_modules/@openzeppelin/contracts/package.json" ]; then
  echo "contracts/build.sh: installing the pinned toolchain (npm ci --prefix contracts) ..." >&2
  if ! npm ci --prefix "$HERE" --no-audit --no-fund --loglevel=error >&2; then
    echo "contracts/build.sh: npm ci failed; cannot build without solc and @openzeppelin/contracts." >&2
    exit 2
  fi
fi

exec node "$HERE/build.mjs" "$@"
