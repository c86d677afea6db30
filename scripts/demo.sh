#!/usr/bin/env bash
# The main job: `herald lab demo`. It builds a bare-metal cluster in network namespaces on
# this host (nodes on a LAN, an upstream router, a client behind it, devkube, the controller
# and one agent per node), creates a pool and a dual-stack service, reaches it from the LAN
# and through the router, powers off the announcing node while a client sends a request
# every 10 ms, reports the outage it saw, heals and tears down. Needs root.
# Extra arguments go to `herald lab demo` (e.g. --keep to leave the lab up).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_node
ensure_network_tools
ensure_modules
cd "$herald_root"
exec node bin/herald.js lab demo "$@"
