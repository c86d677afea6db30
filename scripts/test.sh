#!/usr/bin/env bash
# Installs what the tests need, then runs every test: type check, lint, format, unit,
# property, command-line, devkube (with real kubectl) and client-layer tests.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_node
ensure_kubectl
ensure_modules
cd "$herald_root"
npm test --silent
