#!/usr/bin/env bash
# Builds the peers Herald is benchmarked against side by side (`npm run bench -- peers`):
# MetalLB's speaker and controller from the go.universe.tf/metallb module, and kube-vip
# from github.com/kube-vip/kube-vip — from the Go module proxy only, into a cache outside
# the repository keyed by their versions. A warm run finds the binaries and returns at once.
# Nothing of the peers is committed: the benchmark reads MetalLB's CRDs and RBAC from the
# module's directory in the Go module cache, which bin/metallb-module names.
#
#   scripts/peers.sh            build (or reuse) and print the directory holding the binaries
#   scripts/peers.sh --check    print that directory if everything is already in the cache,
#                               else exit 1 without building
#
# kube-vip's outcome (built, or refused by the proxy with its answer) is bin/kube-vip.status;
# a refusal does not fail the script, since MetalLB alone is worth measuring.
#
# Environment: HERALD_METALLB_VERSION (default v0.15.2), HERALD_KUBE_VIP_VERSION (default
# v1.2.0), HERALD_CACHE (default ~/.cache/herald).
set -euo pipefail

metallb_version=${HERALD_METALLB_VERSION:-v0.15.2}
kube_vip_version=${HERALD_KUBE_VIP_VERSION:-v1.2.0}
cache=${HERALD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald}
out="$cache/peers-metallb-$metallb_version-kube-vip-$kube_vip_version"

complete() {
  [ -x "$out/bin/metallb-speaker" ] && [ -x "$out/bin/metallb-controller" ] || return 1
  [ -s "$out/bin/kube-vip.status" ] || return 1
  local module
  module=$(cat "$out/bin/metallb-module" 2>/dev/null) || return 1
  [ -d "$module/config/crd/bases" ] && [ -f "$module/config/rbac/role.yaml" ]
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
  echo "peers.sh: Go is needed to build MetalLB (apt-get install golang, or Go 1.24+)" >&2
  exit 1
}

mkdir -p "$out/bin" "$out/src"
log="$out/build.log"
: >"$log"
echo "peers.sh: building MetalLB $metallb_version into $out (log: $log)" >&2
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# MetalLB is built from a copy of its module with its own go.mod and go.sum, as its
# Dockerfiles do; the module cache's copy is read-only.
mod_dir=$(cd "$out/src" && go mod download -json "go.universe.tf/metallb@$metallb_version" |
  sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[ -n "$mod_dir" ] || {
  echo "peers.sh: go.universe.tf/metallb@$metallb_version is not served" >&2
  exit 1
}
rm -rf "$out/src/metallb"
cp -r "$mod_dir" "$out/src/metallb"
chmod -R u+w "$out/src/metallb"
cd "$out/src/metallb"
go mod download >>"$log" 2>&1
for part in speaker controller; do
  [ -x "$out/bin/metallb-$part" ] && continue
  echo "peers.sh: go build metallb $part" >&2
  go build -trimpath -ldflags "-s -w" -o "$out/bin/metallb-$part.tmp" "./$part" >>"$log" 2>&1 || {
    echo "peers.sh: building MetalLB's $part failed; the end of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  }
  mv "$out/bin/metallb-$part.tmp" "$out/bin/metallb-$part"
done
echo "$mod_dir" >"$out/bin/metallb-module"

# kube-vip: one exact version. The proxy has answered 403 ("not available") for it; the
# answer is kept so the benchmark can say why kube-vip is not in its table.
mkdir -p "$out/src/kube-vip"
cd "$out/src/kube-vip"
answer=$(go mod download -json "github.com/kube-vip/kube-vip@$kube_vip_version" 2>&1 || true)
error=$(printf '%s\n' "$answer" | sed -n 's/.*"Error": "\(.*\)".*/\1/p')
if [ -n "$error" ]; then
  echo "refused $kube_vip_version: $error" >"$out/bin/kube-vip.status"
  echo "peers.sh: kube-vip $kube_vip_version refused by the module proxy: $error" >&2
else
  kv_dir=$(printf '%s\n' "$answer" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  rm -rf "$out/src/kube-vip/module"
  cp -r "$kv_dir" "$out/src/kube-vip/module"
  chmod -R u+w "$out/src/kube-vip/module"
  if (cd "$out/src/kube-vip/module" && go build -trimpath -ldflags "-s -w" -o "$out/bin/kube-vip" .) >>"$log" 2>&1; then
    echo "built $kube_vip_version" >"$out/bin/kube-vip.status"
  else
    echo "build failed $kube_vip_version: see $log" >"$out/bin/kube-vip.status"
  fi
fi

echo "$out/bin"
