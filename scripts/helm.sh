#!/usr/bin/env bash
# Builds helm, which the chart in deploy/helm/herald is tested with (test/helm_test.ts),
# from the helm.sh/helm/v4 module (cmd/helm) through the Go module proxy only, into a
# cache outside the repository keyed by version, as scripts/k8s.sh does for Kubernetes.
# A warm run finds the binary and returns at once.
#
#   scripts/helm.sh           build (or reuse) and print the directory holding helm
#   scripts/helm.sh --check   print that directory if helm is already in the cache,
#                             else exit 1 without building
#
# Environment: HERALD_HELM_VERSION (default v4.3.2), HERALD_CACHE (default ~/.cache/herald).
set -euo pipefail

helm_version=${HERALD_HELM_VERSION:-v4.3.2}
cache=${HERALD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald}
out="$cache/helm-$helm_version"

complete() {
  [ -x "$out/bin/helm" ] && [ "$(cat "$out/bin/.helm-version" 2>/dev/null)" = "$helm_version" ]
}

if [ "${1:-}" = "--check" ]; then
  complete || exit 1
  echo "$out/bin"
  exit 0
fi
if complete; then
  echo "$out/bin"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  echo "helm.sh: Go is needed to build helm (apt-get install golang, or Go 1.26+)" >&2
  exit 1
}

mkdir -p "$out/bin"
log="$out/build.log"
: >"$log"
echo "helm.sh: building helm $helm_version into $out (log: $log)" >&2

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
# helm's Makefile sets the version the same way; `helm version` then names this build.
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$helm_version"
ldflags+=" -X helm.sh/helm/v4/internal/version.gitCommit=module-proxy"
ldflags+=" -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
# `go install module@version` builds with the module's own go.mod (it has no replace
# directives), so no build module of ours is needed.
rm -rf "$out/bin.tmp"
GOBIN="$out/bin.tmp" go install -trimpath -ldflags "$ldflags" \
  "helm.sh/helm/v4/cmd/helm@$helm_version" >>"$log" 2>&1 || {
  echo "helm.sh: building helm failed; the end of $log:" >&2
  tail -20 "$log" >&2
  exit 1
}
mv "$out/bin.tmp/helm" "$out/bin/helm"
rmdir "$out/bin.tmp"
echo "$helm_version" >"$out/bin/.helm-version"

echo "$out/bin"
