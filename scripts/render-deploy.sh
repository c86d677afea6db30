#!/usr/bin/env bash
# Regenerates deploy/herald.yaml: deploy/base (with deploy/crds, which
# src/api/generate-crds.ts writes) rendered by `kubectl kustomize`, for kubectl apply -f.
# Run it after changing deploy/base or regenerating the CRDs; test/deploy_test.ts fails
# until it matches.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_kubectl
cd "$herald_root"

rendered=$(kubectl kustomize deploy/base)
{
  echo "# Herald: deploy/base rendered by scripts/render-deploy.sh (kubectl kustomize); do not edit."
  echo "# Install: kubectl apply -f deploy/herald.yaml, then the detector key (docs/install.md)."
  printf '%s\n' "$rendered"
} >deploy/herald.yaml
echo "wrote deploy/herald.yaml" >&2
