import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { desiredSlices, sameSlice, type PodLike, type ServiceLike } from "./endpoints.ts";

function pod(name: string, node: string, ips: string[], extra: Partial<PodLike> = {}): PodLike {
  return {
    metadata: { name, namespace: "default", uid: `uid-${name}`, labels: { app: "web" } },
    spec: {
      nodeName: node,
      containers: [{ ports: [{ name: "http", containerPort: 8080 }] }],
    },
    status: {
      phase: "Running",
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: "Ready", status: "True" }],
    },
    ...extra,
  };
}

const service: ServiceLike = {
  metadata: { name: "web", namespace: "default", uid: "svc-uid" },
  spec: {
    selector: { app: "web" },
    ipFamilies: ["IPv4"],
    ports: [{ name: "http", protocol: "TCP", port: 80, targetPort: 8080 }],
  },
};

describe("desiredSlices", () => {
  it("lists the selected Running Pods with node, target and the target port", () => {
    const slices = desiredSlices(service, [
      pod("web-b", "node2", ["10.0.0.2"]),
      pod("web-a", "node1", ["10.0.0.1"]),
      pod("other", "node3", ["10.0.0.3"], {
        metadata: { name: "other", namespace: "default", labels: { app: "other" } },
      }),
    ]);
    assert.equal(slices.length, 1);
    const [slice] = slices;
    assert.equal(slice!.metadata.name, "web-ipv4");
    assert.deepEqual(slice!.metadata.labels, {
      "kubernetes.io/service-name": "web",
      "endpointslice.kubernetes.io/managed-by": "herald-lab",
    });
    assert.equal(slice!.addressType, "IPv4");
    assert.deepEqual(slice!.ports, [{ name: "http", protocol: "TCP", port: 8080 }]);
    assert.deepEqual(slice!.endpoints, [
      {
        addresses: ["10.0.0.1"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "node1",
        targetRef: { kind: "Pod", namespace: "default", name: "web-a", uid: "uid-web-a" },
      },
      {
        addresses: ["10.0.0.2"],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: "node2",
        targetRef: { kind: "Pod", namespace: "default", name: "web-b", uid: "uid-web-b" },
      },
    ]);
  });

  it("writes one slice per family of the Service, each with that family's addresses", () => {
    const dual = { ...service, spec: { ...service.spec, ipFamilies: ["IPv4", "IPv6"] } };
    const slices = desiredSlices(dual, [pod("web-a", "node1", ["10.0.0.1", "fd00::1"])]);
    assert.deepEqual(
      slices.map((slice) => [slice.addressType, slice.endpoints.map((e) => e.addresses[0])]),
      [
        ["IPv4", ["10.0.0.1"]],
        ["IPv6", ["fd00::1"]],
      ],
    );
  });

  it("keeps an empty slice when nothing is selected, and none without a selector", () => {
    assert.deepEqual(desiredSlices(service, [])[0]!.endpoints, []);
    assert.deepEqual(
      desiredSlices({ ...service, spec: { ...service.spec, selector: {} } }, []),
      [],
    );
  });

  it("skips Pods that are not Running and marks unready and terminating ones", () => {
    const pending = pod("p", "node1", ["10.0.0.5"]);
    pending.status!.phase = "Pending";
    const unready = pod("u", "node1", ["10.0.0.6"]);
    unready.status!.conditions = [{ type: "Ready", status: "False" }];
    const leaving = pod("t", "node2", ["10.0.0.7"]);
    leaving.metadata!.deletionTimestamp = "2024-01-01T00:00:00Z";
    const [slice] = desiredSlices(service, [pending, unready, leaving]);
    assert.deepEqual(
      slice!.endpoints.map((e) => [e.targetRef.name, e.conditions]),
      [
        ["t", { ready: false, serving: true, terminating: true }],
        ["u", { ready: false, serving: false, terminating: false }],
      ],
    );
  });

  it("resolves a named target port from the Pods' container ports", () => {
    const named = {
      ...service,
      spec: { ...service.spec, ports: [{ name: "web", port: 80, targetPort: "http" }] },
    };
    const [slice] = desiredSlices(named, [pod("web-a", "node1", ["10.0.0.1"])]);
    assert.deepEqual(slice!.ports, [{ name: "web", protocol: "TCP", port: 8080 }]);
  });
});

describe("sameSlice", () => {
  it("ignores server-set metadata and notices a changed endpoint", () => {
    const [desired] = desiredSlices(service, [pod("web-a", "node1", ["10.0.0.1"])]);
    const stored = {
      ...desired!,
      metadata: { ...desired!.metadata, resourceVersion: "7", uid: "x" },
    };
    assert.ok(sameSlice(stored, desired!));
    const [moved] = desiredSlices(service, [pod("web-a", "node2", ["10.0.0.1"])]);
    assert.ok(!sameSlice(stored, moved!));
  });
});
