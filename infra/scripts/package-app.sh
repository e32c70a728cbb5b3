#!/bin/sh
# Builds the app and writes the deployment package: host.json, package.json and the
# dist/main.js bundle (scripts/bundle.mjs puts every dependency in it, so the package needs
# no node_modules and Flex Consumption needs no remote build).
#
#   infra/scripts/package-app.sh [output.zip]     (default: ./app.zip)
#
# Then: az functionapp deployment source config-zip -g <rg> -n <app> --src app.zip
set -eu

cd "$(dirname "$0")/../.."
OUT="${1:-app.zip}"
case "$OUT" in /*) ;; *) OUT="$(pwd)/$OUT" ;; esac

[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/dist"
cp host.json package.json "$STAGE/"
cp dist/main.js "$STAGE/dist/"
[ -f dist/main.js.map ] && cp dist/main.js.map "$STAGE/dist/"

rm -f "$OUT"
if command -v zip >/dev/null 2>&1; then
  (cd "$STAGE" && zip -qr "$OUT" .)
else
  (cd "$STAGE" && python3 -m zipfile -c "$OUT" host.json package.json dist)
fi
echo "wrote $OUT ($(wc -c <"$OUT") bytes)"
