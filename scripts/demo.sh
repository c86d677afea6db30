#!/usr/bin/env bash
# The main job, until `herald lab demo` exists: plans the addresses for the example site
# in examples/plan (pools, namespaces and services, one restored from status) the way the
# controller will allocate them, and shows the result.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_node
ensure_modules
cd "$herald_root"
echo "\$ herald plan -f examples/plan"
node bin/herald.js plan -f examples/plan
echo
echo "\$ herald plan -f examples/plan -o json   # the same, for scripts (first service shown)"
node bin/herald.js plan -f examples/plan -o json | node -e '
  const plan = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log(JSON.stringify({ services: plan.services.slice(0, 1), pools: "…" }, null, 2));'
