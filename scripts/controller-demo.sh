#!/usr/bin/env bash
# The controller on its own, without root or a lab (the main job is ./scripts/demo.sh):
#  1. offline: `herald plan` shows the addresses the example site in examples/plan gets;
#  2. live: devkube (an in-memory Kubernetes API server), Herald's CRDs and two controller
#     replicas; the same site applied with kubectl; Services get their addresses, with
#     conditions, events and pool usage; then the leader is stopped and the standby
#     serves a new Service.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_node
ensure_kubectl
ensure_modules
cd "$herald_root"

herald() { node bin/herald.js "$@"; }
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "herald plan -f examples/plan"
herald plan -f examples/plan

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export KUBECONFIG="$work/kubeconfig"

step "herald dev-apiserver --kubeconfig-out \$KUBECONFIG &"
# Started as node itself, not through the herald() function, so that $! is its PID.
node bin/herald.js dev-apiserver --kubeconfig-out "$KUBECONFIG" >"$work/apiserver.log" 2>&1 &
pids+=($!)
until [ -s "$KUBECONFIG" ]; do sleep 0.1; done
kubectl apply -k deploy/crds/ >/dev/null
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: herald-system}
YAML

step "herald controller --identity replica-a &   # and replica-b, its standby"
for replica in a b; do
  node bin/herald.js controller --identity "replica-$replica" --metrics-address 0 \
    --health-address "127.0.0.1:0" >"$work/controller-$replica.log" 2>&1 &
  pids+=($!)
  sleep 0.5
done

step "kubectl apply -f examples/plan/"
kubectl apply -f examples/plan/
sleep 2

step "kubectl get services -A"
kubectl get services -A
step "kubectl get pools -o wide"
kubectl get pools -o wide
step "kubectl get events -A"
kubectl get events -A
step "kubectl get service legacy -n shop -o jsonpath='{.status.conditions}'"
kubectl get service legacy -n shop -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'

leader=$(kubectl get lease herald-controller -n herald-system -o jsonpath='{.spec.holderIdentity}')
step "stop the leader ($leader); the standby takes over"
if [ "$leader" = replica-a ]; then kill "${pids[1]}"; else kill "${pids[2]}"; fi
sleep 3
kubectl create service loadbalancer after-failover --tcp=80:8080 -n shop >/dev/null
sleep 1
kubectl get lease herald-controller -n herald-system -o jsonpath='leader now: {.spec.holderIdentity}{"\n"}'
kubectl get service after-failover -n shop
