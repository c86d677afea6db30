#!/usr/bin/env bash
# Installs what the tests need, then runs every test: type check, lint, format, unit,
# property, command-line, devkube (with real kubectl), the Helm chart (with real helm),
# client-layer and network tests (the real kernel in network namespaces: run as root).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_node
ensure_kubectl
ensure_k8s_oldest
ensure_helm
ensure_promtool
ensure_network_tools
ensure_modules
cd "$herald_root"
npm test --silent
