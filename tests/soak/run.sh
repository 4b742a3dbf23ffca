#!/bin/sh
# Soak: concurrent submissions, claims and decisions for SOAK_SECONDS (default
# 60) while Redis and then raqibd are restarted in the middle; afterwards every
# 202ed id must be in Redis exactly once with the right state. Not part of
# `make test`. Usage: tests/soak/run.sh [BUILD_DIR]   (default build)
set -e
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
make --no-print-directory BUILD="$BUILD" all >/dev/null
case "$BUILD" in /*) ;; *) BUILD="$PWD/$BUILD" ;; esac
RAQIBD="$BUILD/raqibd" RULES="$PWD/rules" exec perl -I tests/integration/lib tests/soak/soak.pl
