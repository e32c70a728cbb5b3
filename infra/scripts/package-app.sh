#!/bin/sh
# Writes the deployment package: host.json, package.json and the dist/main.js bundle with its
# source map. scripts/bundle.mjs puts every dependency in the bundle, so the package needs no
# node_modules and Flex Consumption no remote build. Nothing else of the working tree goes in
# (node_modules, test/, bench/, .cold-launcher/, inbox/, local.settings.json...).
#
#   infra/scripts/package-app.sh [--dir <folder>] [--no-build] [<output.zip>]
#
#   --dir <folder>  put the package files in <folder>. `npm run package` writes .deploy/, the
#                   folder azd deploys (azure.yaml: dist: .deploy). Only an empty folder or
#                   one this script wrote is replaced.
#   <output.zip>    zip the package (./app.zip when neither is given), then:
#                   az functionapp deployment source config-zip -g <rg> -n <app> --src app.zip
#   --no-build      fail instead of building when dist/main.js needs a build
#
# dist/main.js is built (npm run build) only when it is missing or older than a source file.
set -eu

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
}

DIR=""
OUT=""
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage; DIR=$2; shift 2 ;;
    --dir=*) DIR=${1#--dir=}; shift ;;
    --no-build) BUILD=0; shift ;;
    -h | --help) usage ;;
    -*) echo "error: unknown option $1" >&2; usage ;;
    *) [ -z "$OUT" ] || usage; OUT=$1; shift ;;
  esac
done
[ -n "$DIR" ] || [ -n "$OUT" ] || OUT=app.zip

# Paths given are relative to where the script is run from; the work happens at the repo root.
CALLER=$(pwd)
absolute() {
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$CALLER" "$1" ;; esac
}
[ -z "$DIR" ] || DIR=$(absolute "$DIR")
[ -z "$OUT" ] || OUT=$(absolute "$OUT")
cd "$(dirname "$0")/../.."

# What the bundle is built from: a change to any of them makes dist/main.js out of date.
needs_build() {
  [ -f dist/main.js ] || return 0
  for src in functions shared scripts/bundle.mjs package.json package-lock.json tsconfig.json tsconfig.build.json; do
    [ -e "$src" ] || continue
    if [ -n "$(find "$src" -newer dist/main.js -print | head -n 1)" ]; then return 0; fi
  done
  return 1
}

if needs_build; then
  if [ "$BUILD" = 0 ]; then
    echo "error: dist/main.js is missing or older than the sources: run npm run build (or drop --no-build)" >&2
    exit 1
  fi
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npm run build
fi
[ -f dist/main.js ] || { echo "error: the build wrote no dist/main.js" >&2; exit 1; }

# The package folder may hold only what this script writes: never empty a source folder.
replaceable() {
  [ -e "$1" ] || return 0
  [ -d "$1" ] || { echo "error: $1 exists and is not a folder" >&2; exit 1; }
  extra=$(cd "$1" && find . -mindepth 1 ! -path ./host.json ! -path ./package.json ! -path ./dist \
    ! -path ./dist/main.js ! -path ./dist/main.js.map -print | head -n 1)
  [ -z "$extra" ] || { echo "error: $1 holds ${extra#./}, which this script did not write: give an empty or new folder" >&2; exit 1; }
}

if [ -n "$DIR" ]; then
  STAGE=$DIR
  replaceable "$STAGE"
  rm -f "$STAGE/host.json" "$STAGE/package.json" "$STAGE/dist/main.js" "$STAGE/dist/main.js.map"
else
  STAGE=$(mktemp -d)
  trap 'rm -rf "$STAGE"' EXIT
fi
mkdir -p "$STAGE/dist"
cp host.json package.json "$STAGE/"
cp dist/main.js "$STAGE/dist/"
if [ -f dist/main.js.map ]; then cp dist/main.js.map "$STAGE/dist/"; fi
[ -z "$DIR" ] || echo "wrote $DIR ($(du -sk "$DIR" | cut -f1) KB: host.json, package.json, dist/main.js)"

if [ -n "$OUT" ]; then
  rm -f "$OUT"
  if command -v zip >/dev/null 2>&1; then
    (cd "$STAGE" && zip -qr "$OUT" host.json package.json dist)
  else
    (cd "$STAGE" && python3 -m zipfile -c "$OUT" host.json package.json dist)
  fi
  echo "wrote $OUT ($(wc -c <"$OUT") bytes)"
fi
