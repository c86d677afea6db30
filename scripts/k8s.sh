#!/usr/bin/env bash
# Builds the real Kubernetes parts Herald is tested with — kube-apiserver,
# kube-controller-manager, kube-proxy and kubectl from the k8s.io/kubernetes module, etcd
# from go.etcd.io/etcd/server/v3 — from the Go module proxy only, into a cache outside the
# repository keyed by version. A warm run finds the binaries and returns at once.
#
#   scripts/k8s.sh            build (or reuse) and print the directory holding the binaries
#   scripts/k8s.sh --check    print that directory if every binary is already in the cache,
#                             else exit 1 without building
#   scripts/k8s.sh --oldest [--check]   the same for the oldest supported release's
#                             kube-apiserver alone
#
# Environment: HERALD_K8S_VERSION (default v1.37.2), HERALD_ETCD_VERSION (default v3.6.16),
# HERALD_CACHE (default ~/.cache/herald), HERALD_K8S_BINARIES (default all five; e.g.
# "kube-apiserver" alone for the oldest supported version, test/min-version_test.ts).
set -euo pipefail

# The oldest Kubernetes Herald supports (docs/install.md): `--oldest` builds its
# kube-apiserver alone, for test/min-version_test.ts.
oldest_version=v1.34.4
if [ "${1:-}" = "--oldest" ]; then
  shift
  export HERALD_K8S_VERSION=$oldest_version HERALD_K8S_BINARIES=kube-apiserver
fi

k8s_version=${HERALD_K8S_VERSION:-v1.37.2}
etcd_version=${HERALD_ETCD_VERSION:-v3.6.16}
cache=${HERALD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald}
out="$cache/k8s-$k8s_version"
read -r -a binaries <<<"${HERALD_K8S_BINARIES:-kube-apiserver kube-controller-manager kube-proxy kubectl etcd}"
kube_binaries=()
for b in "${binaries[@]}"; do [ "$b" = etcd ] || kube_binaries+=("$b"); done
wants_etcd() { [[ " ${binaries[*]} " == *" etcd "* ]]; }

complete() {
  for b in "${binaries[@]}"; do [ -x "$out/bin/$b" ] || return 1; done
  ! wants_etcd || [ "$(cat "$out/bin/.etcd-version" 2>/dev/null)" = "$etcd_version" ]
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
  echo "k8s.sh: Go is needed to build the Kubernetes binaries (apt-get install golang, or Go 1.26+)" >&2
  exit 1
}

mkdir -p "$out/bin" "$out/src/kubernetes" "$out/src/etcd"
log="$out/build.log"
: >"$log"
echo "k8s.sh: building ${binaries[*]} of Kubernetes $k8s_version into $out (log: $log)" >&2

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# k8s.io/kubernetes points its staging modules at ./staging, which the published module
# does not carry: each is replaced by the release published with the same minor.
staging_version="v0.${k8s_version#v1.}"
cd "$out/src/kubernetes"
mod_dir=$(go mod download -json "k8s.io/kubernetes@$k8s_version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
[ -n "$mod_dir" ] || {
  echo "k8s.sh: k8s.io/kubernetes@$k8s_version is not served" >&2
  exit 1
}
{
  echo "module herald.dev/k8s-build"
  echo
  sed -n 's/^go \(.*\)/go \1/p' "$mod_dir/go.mod"
  echo
  echo "require k8s.io/kubernetes $k8s_version"
  echo
  echo "replace ("
  sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging_version"'#p' "$mod_dir/go.mod"
  echo ")"
} >go.mod
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  for b in "${kube_binaries[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$b"; done
  printf ')\n'
} >tools.go
go mod tidy -e >>"$log" 2>&1 || true
# tidy drops requirements only the tools file names when its build tag is off; `go get`
# puts them back with the versions k8s.io/kubernetes asks for.
go get "k8s.io/kubernetes@$k8s_version" >>"$log" 2>&1

minor=${k8s_version#v1.}
minor=${minor%%.*}
build_date=$(date -u -d "@$(stat -c %Y "$mod_dir/go.mod")" +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit=module-proxy"
done
for b in "${kube_binaries[@]}"; do
  [ -x "$out/bin/$b" ] && continue
  echo "k8s.sh: go build $b" >&2
  go build -trimpath -ldflags "$ldflags" -o "$out/bin/$b.tmp" "k8s.io/kubernetes/cmd/$b" >>"$log" 2>&1 || {
    echo "k8s.sh: building $b failed; the end of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  }
  mv "$out/bin/$b.tmp" "$out/bin/$b"
done

if wants_etcd && [ "$(cat "$out/bin/.etcd-version" 2>/dev/null)" != "$etcd_version" ]; then
  echo "k8s.sh: go build etcd $etcd_version" >&2
  cd "$out/src/etcd"
  rm -f go.mod go.sum
  go mod init herald.dev/etcd-build >>"$log" 2>&1
  go get "go.etcd.io/etcd/server/v3@$etcd_version" >>"$log" 2>&1
  etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-proxy"
  # etcd's main package is the server module's root.
  go build -trimpath -ldflags "$etcd_ldflags" -o "$out/bin/etcd.tmp" go.etcd.io/etcd/server/v3 >>"$log" 2>&1 || {
    echo "k8s.sh: building etcd failed; the end of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  }
  mv "$out/bin/etcd.tmp" "$out/bin/etcd"
  echo "$etcd_version" >"$out/bin/.etcd-version"
fi

echo "$out/bin"
