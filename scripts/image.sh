#!/usr/bin/env bash
# Builds Herald's container image without a Docker engine, as an OCI image layout:
#   layer 1  a Debian bookworm system (mmdebstrap, variant essential) with the packages in
#            deploy/image/packages.txt at exactly those versions, the user 65532 — and no
#            apt, no npm, npx or corepack
#   layer 2  Node 22: the official binary the `node` npm package put in node_modules
#   layer 3  the bundle of the controller and the agent (scripts/bundle.ts → src/cli/runtime.ts)
# packed by umoci (scripts/umoci.sh builds it from the Go module proxy). Reproducible: every
# file's mtime is clamped to SOURCE_DATE_EPOCH, tars are sorted with numeric owners, and
# the same inputs give the same digest (--check builds twice and compares). docs/image.md.
#
#   scripts/image.sh [OUT]          build into OUT (default dist/image), print its digest
#   scripts/image.sh --check [OUT]  build twice from scratch, fail unless the digests match
#   scripts/image.sh --update-lock  rebuild the rootfs and rewrite deploy/image/rootfs.lock
#
# The Debian layer is cached in ~/.cache/herald/image-rootfs-KEY, KEY the hash of
# packages.txt, rootfs.lock and this script: a fresh machine builds it once (mmdebstrap
# needs the Debian mirror and root or user namespaces), later builds only repack.
# Environment: SOURCE_DATE_EPOCH (default: the last commit's time), HERALD_CACHE,
# HERALD_DEBIAN_MIRROR (default http://deb.debian.org/debian), HERALD_IMAGE_TAG.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HERALD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/herald}
mirror=${HERALD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages="$root/deploy/image/packages.txt"
lock="$root/deploy/image/rootfs.lock"
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/package.json" | head -1)
tag=${HERALD_IMAGE_TAG:-$version}
mode=build
case "${1:-}" in
  --check) mode=check; shift ;;
  --update-lock) mode=lock; shift ;;
esac
out=$(realpath -m "${1:-$root/dist/image}")

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

pinned() { grep -v '^\s*#' "$packages" | grep -v '^\s*$'; }

# A sorted tar of DIR with every owner numeric and every mtime at most SOURCE_DATE_EPOCH,
# no atime or ctime: the same tree gives the same bytes.
repro_tar() {
  local dir=$1 tarball=$2
  tar --create --file "$tarball" --directory "$dir" --sort=name --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime --numeric-owner --exclude=./dev/* .
}

# ---- layer 1: the Debian system, cached ----
build_rootfs() {
  local dir=$1
  command -v mmdebstrap >/dev/null 2>&1 || {
    echo "image.sh: mmdebstrap is needed (apt-get install mmdebstrap; scripts/setup.sh does)" >&2
    exit 1
  }
  local include
  include=$(pinned | paste -sd, -)
  # No documentation but the copyright files, no man pages or translations; no apt state
  # or logs left behind; the user and group 65532 written directly (useradd would date
  # /etc/shadow with today).
  mmdebstrap --quiet --variant=essential --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='echo "herald:x:65532:65532:herald:/nonexistent:/usr/sbin/nologin" >>"$1/etc/passwd"' \
    --customize-hook='echo "herald:x:65532:" >>"$1/etc/group"' \
    --customize-hook='echo "herald:*:0:0:99999:7:::" >>"$1/etc/shadow"' \
    bookworm "$dir" "$mirror"
  # What mmdebstrap leaves of its run: caches, logs, apt's configuration (there is no apt),
  # dpkg's backups, this machine's hostname and resolver.
  rm -rf "$dir"/var/cache/* "$dir"/var/log/* "$dir"/var/lib/apt "$dir"/etc/apt \
    "$dir"/etc/hostname "$dir"/etc/resolv.conf "$dir"/var/lib/dpkg/*-old "$dir"/tmp/*
  # A machine-id that exists but is empty, as systemd-less images have it.
  : >"$dir/etc/machine-id"
}

installed_packages() {
  dpkg-query --admindir="$1/var/lib/dpkg" -W -f '${Package}=${Version}\n' | LC_ALL=C sort
}

rootfs_layer() {
  local key
  key=$(cat "$packages" "$lock" "$0" 2>/dev/null | sha256sum | cut -c1-16)
  local dir="$cache/image-rootfs-$key"
  if [ -s "$dir/rootfs.tar" ] && [ "$mode" != lock ]; then
    echo "$dir/rootfs.tar"
    return
  fi
  echo "image.sh: building the Debian layer into $dir (mmdebstrap, about a minute)" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  build_rootfs "$dir/rootfs"
  # Every requested package at its pinned version, and the whole system as the lock says.
  local want missing
  while read -r want; do
    grep -qxF "$want" <(installed_packages "$dir/rootfs") || missing+="$want "
  done < <(pinned)
  if [ -n "${missing:-}" ]; then
    echo "image.sh: not installed at the pinned version: $missing" >&2
    exit 1
  fi
  if [ "$mode" = lock ]; then
    {
      echo "# Every Debian package in the image's rootfs, name=version: scripts/image.sh fails"
      echo "# when a build installs anything else. Rewritten by scripts/image.sh --update-lock."
      installed_packages "$dir/rootfs"
    } >"$lock"
    echo "image.sh: wrote $lock" >&2
  elif ! diff -u <(grep -v '^#' "$lock") <(installed_packages "$dir/rootfs") >&2; then
    echo "image.sh: the rootfs differs from $lock (above); if that is wanted: scripts/image.sh --update-lock" >&2
    exit 1
  fi
  [ -z "$(find "$dir/rootfs" -name 'npm' -o -name 'npx' -o -name 'corepack' | head -1)" ] || {
    echo "image.sh: npm, npx or corepack in the rootfs" >&2
    exit 1
  }
  repro_tar "$dir/rootfs" "$dir/rootfs.tar.tmp"
  mv "$dir/rootfs.tar.tmp" "$dir/rootfs.tar"
  rm -rf "$dir/rootfs"
  echo "$dir/rootfs.tar"
}

# ---- the image ----
build_image() {
  local out=$1 rootfs_tar=$2 work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  local umoci
  umoci="$("$root/scripts/umoci.sh")/umoci"
  local node="$root/node_modules/node/bin/node"
  [ -x "$node" ] || node=$(readlink -f "$root/node_modules/.bin/node")
  "$node" --version | grep -q '^v22\.' || {
    echo "image.sh: $node is not Node 22 (npm ci installs the node@22 package)" >&2
    exit 1
  }

  mkdir -p "$work/node/usr/local/bin" "$work/herald/opt/herald"
  install -m 0755 "$node" "$work/node/usr/local/bin/node"
  "$node" "$root/scripts/bundle.ts" "$work/bundle/herald.mjs" >/dev/null
  install -m 0644 "$work/bundle/herald.mjs" "$work/bundle/herald.mjs.LEGAL.txt" \
    "$work/herald/opt/herald/"
  chmod 0755 "$work/node" "$work/node/usr" "$work/node/usr/local" "$work/node/usr/local/bin" \
    "$work/herald" "$work/herald/opt" "$work/herald/opt/herald"
  repro_tar "$work/node" "$work/node.tar"
  repro_tar "$work/herald" "$work/herald.tar"

  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  "$umoci" init --layout "$out"
  "$umoci" new --image "$out:$tag"
  local history=(--history.created "$created" --history.author herald)
  "$umoci" raw add-layer --image "$out:$tag" "${history[@]}" \
    --history.created_by "mmdebstrap bookworm: deploy/image/packages.txt" "$rootfs_tar"
  "$umoci" raw add-layer --image "$out:$tag" "${history[@]}" \
    --history.created_by "node $("$node" --version) from the node npm package" "$work/node.tar"
  "$umoci" raw add-layer --image "$out:$tag" "${history[@]}" \
    --history.created_by "scripts/bundle.ts: src/cli/runtime.ts" "$work/herald.tar"
  "$umoci" config --image "$out:$tag" --created "$created" --author herald \
    --no-history \
    --config.user 65532:65532 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.entrypoint node --config.entrypoint /opt/herald/herald.mjs \
    --config.cmd --help \
    --config.label org.opencontainers.image.title=herald \
    --config.label "org.opencontainers.image.description=Bare-metal LoadBalancer for Kubernetes" \
    --config.label "org.opencontainers.image.version=$version" \
    --config.label org.opencontainers.image.licenses=Apache-2.0
  "$umoci" gc --layout "$out"
}

digest() {
  "$(dirname "$("$root/scripts/umoci.sh")/umoci")/umoci" stat --image "$1:$tag" --json >/dev/null
  # The manifest's digest, from the layout's index.
  sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$1/index.json" | head -1
}

rootfs_tar=$(rootfs_layer)
[ "$mode" = lock ] && exit 0
build_image "$out" "$rootfs_tar"
first=$(digest "$out")
if [ "$mode" = check ]; then
  build_image "$out.again" "$rootfs_tar"
  second=$(digest "$out.again")
  rm -rf "$out.again"
  if [ "$first" != "$second" ]; then
    echo "image.sh: not reproducible: $first, then $second" >&2
    exit 1
  fi
  echo "image.sh: built twice, the same digest" >&2
fi
echo "$out:$tag $first"
