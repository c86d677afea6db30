#!/usr/bin/env bash
# Installs what the tests need, then runs every test: type check, lint, format, unit,
# property and command-line tests.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_node
ensure_modules
cd "$herald_root"
npm test --silent
