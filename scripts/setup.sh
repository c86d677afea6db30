# Sourced by the other scripts: makes sure this machine has what Herald needs, installing
# only what is missing. Meant for Debian (and Ubuntu) as root; elsewhere it says what to install.

herald_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
    echo "Please install: ${missing[*]} (needs apt-get as root)" >&2
    return 1
  fi
  echo "Installing ${missing[*]} ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Node.js and npm from Debian are only used to run npm; the project's own Node 22
# comes from the node@22 package that `npm ci` installs.
ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm ca-certificates; fi
}

# The real Kubernetes parts (kube-apiserver, etcd, kube-controller-manager, kube-proxy,
# kubectl), built from the Go module proxy into ~/.cache/herald by scripts/k8s.sh (about
# 9 minutes on 2 cores the first time, seconds after), and put first on PATH: the tests
# run this kubectl, not whatever the machine has (Debian's 1.20 renders kustomize
# differently). openssl makes the test control plane's certificates.
ensure_k8s() {
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  local bin
  bin=$("$herald_root/scripts/k8s.sh")
  export PATH="$bin:$PATH"
  export HERALD_K8S_BIN="$bin"
}
ensure_kubectl() { ensure_k8s; }

# The oldest Kubernetes Herald supports (docs/install.md): its kube-apiserver alone, for
# test/min-version_test.ts, built before the tests start rather than inside one.
ensure_k8s_oldest() {
  "$herald_root/scripts/k8s.sh" --oldest >/dev/null
}

# helm, for the chart in deploy/helm/herald (test/helm_test.ts): built from the
# helm.sh/helm/v4 module by scripts/helm.sh into ~/.cache/herald (a few minutes the first
# time, at once after) and put first on PATH.
ensure_helm() {
  local bin
  bin=$("$herald_root/scripts/helm.sh")
  export PATH="$bin:$PATH"
}

# The monitoring test checks deploy/monitoring/ rules with promtool, which Debian ships in
# the prometheus package. (Where systemd runs, installing it also starts a Prometheus.)
ensure_promtool() {
  command -v promtool >/dev/null 2>&1 || apt_install prometheus
}

# The network tier and the lab: namespaces and addresses (iproute2), gratuitous ARP
# (arping), IPv6 neighbour announcements (ndisc6), traffic (curl, ping), captures (tcpdump),
# and the routing daemons: BIRD for the agents and all three as the lab's upstream router;
# nftables and iptables for real kube-proxy's two modes (herald lab up --kube real);
# mmdebstrap builds the image's Debian layer and runc runs the image (scripts/image.sh).
ensure_network_tools() {
  apt_install iproute2 arping ndisc6 curl iputils-ping tcpdump procps bird2 frr gobgpd \
    nftables iptables mmdebstrap runc
}

# `npm ci` when node_modules is missing or was installed from another lockfile.
ensure_modules() {
  local stamp="$herald_root/node_modules/.herald-lock-sha256"
  local want
  want=$(sha256sum "$herald_root/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd "$herald_root" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}

# The Node 22 that npm ci installed, first on PATH.
export PATH="$herald_root/node_modules/.bin:$PATH"
