#!/usr/bin/env bash
# Builds umoci (github.com/opencontainers/umoci, the OCI image-layout tool scripts/image.sh
# packs the image with) from the Go module proxy into a cache outside the repository keyed
# by version, in the style of scripts/k8s.sh. A warm run finds the binary and returns at once.
#
#   scripts/umoci.sh    build (or reuse) and print the directory holding the binary
#
# Environment: HERALD_UMOCI_VERSION (default v0.6.0), HERALD_CACHE (default ~/.cache/herald).
set -euo pipefail

version=${HERALD_UMOCI_VERSION:-v0.6.0}
cache=${HERALD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald}
out="$cache/umoci-$version"

if [ -x "$out/bin/umoci" ]; then
  echo "$out/bin"
  exit 0
fi
command -v go >/dev/null 2>&1 || {
  echo "umoci.sh: Go is needed to build umoci (apt-get install golang, or Go 1.23+)" >&2
  exit 1
}
mkdir -p "$out/bin" "$out/src"
log="$out/build.log"
: >"$log"
echo "umoci.sh: building umoci $version into $out (log: $log)" >&2
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
# umoci's go.mod has a replace directive, which `go install module@version` refuses: build
# inside the downloaded module instead, as its main module, with its own go.mod and go.sum
# (the versions its release was tested with).
mod_dir=$(go mod download -json "github.com/opencontainers/umoci@$version" 2>>"$log" |
  sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[ -n "$mod_dir" ] || {
  echo "umoci.sh: github.com/opencontainers/umoci@$version is not served" >&2
  exit 1
}
(cd "$mod_dir" && go build -trimpath -ldflags "-s -w" -o "$out/src/umoci" ./cmd/umoci) >>"$log" 2>&1 || {
  echo "umoci.sh: building umoci failed; the end of $log:" >&2
  tail -20 "$log" >&2
  exit 1
}
mv "$out/src/umoci" "$out/bin/umoci"
echo "$out/bin"
