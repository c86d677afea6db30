import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeKubeProtobuf } from "./protobuf.ts";

// A tiny protobuf writer, enough to build the bodies kubectl sends.
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
function varint(value: bigint | number): Uint8Array {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return new Uint8Array(bytes);
}
const tag = (number: number, wireType: number) => varint((number << 3) | wireType);
const int = (number: number, value: bigint | number | boolean) =>
  concat(tag(number, 0), varint(typeof value === "boolean" ? Number(value) : value));
const bytes = (number: number, payload: Uint8Array) =>
  concat(tag(number, 2), varint(payload.length), payload);
const str = (number: number, text: string) => bytes(number, Buffer.from(text));
const msg = (number: number, ...fields: Uint8Array[]) => bytes(number, concat(...fields));
const entry = (number: number, key: string, value: string | Uint8Array) =>
  msg(number, str(1, key), typeof value === "string" ? str(2, value) : bytes(2, value));

/** "k8s\0" and a runtime.Unknown around the object's own message. */
function body(apiVersion: string, kind: string, ...fields: Uint8Array[]): Uint8Array {
  return concat(
    Buffer.from("k8s\0"),
    msg(1, str(1, apiVersion), str(2, kind)),
    bytes(2, concat(...fields)),
    str(3, ""),
    str(4, ""),
  );
}

function decoded(input: Uint8Array): Record<string, unknown> {
  const result = decodeKubeProtobuf(input);
  assert.ok("object" in result, `not decoded: ${"problem" in result ? result.problem : ""}`);
  return result.object;
}

function problem(input: Uint8Array): string {
  const result = decodeKubeProtobuf(input);
  assert.ok("problem" in result, "decoded a body it should not have");
  return result.problem;
}

describe("decodeKubeProtobuf", () => {
  it("reads the Service kubectl create service loadbalancer sends", () => {
    // kubectl 1.32 `create service loadbalancer lb --tcp=443:https --tcp=80`, from -v=9.
    const captured = Buffer.from(
      "6b3873000a0d0a0276311207536572766963651287010a1d0a026c6212001a0022002a003200380042005a09" +
        "0a0361707012026c6212620a220a093434332d6874747073120354435018bb03220b080110001a0568747470" +
        "7328000a150a023830120354435018502206080010501a00280012090a0361707012026c621a00220c4c6f61" +
        "6442616c616e6365723a00420052005a00600068001a020a001a002200",
      "hex",
    );
    assert.deepEqual(decoded(captured), {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "lb", labels: { app: "lb" } },
      spec: {
        ports: [
          { name: "443-https", protocol: "TCP", port: 443, targetPort: "https" },
          { name: "80", protocol: "TCP", port: 80, targetPort: 80 },
        ],
        selector: { app: "lb" },
        type: "LoadBalancer",
      },
    });
  });

  it("reads ObjectMeta: names, versions, times, maps, owners and finalizers", () => {
    const meta = msg(
      1,
      str(1, ""),
      str(2, "web-"),
      str(3, "shop"),
      str(5, "1234-5678"),
      str(6, "42"),
      int(7, 3),
      msg(8, int(1, 1_700_000_000), int(2, 0)),
      msg(9), // the zero time: no deletionTimestamp
      int(10, 0),
      entry(11, "app", "web"),
      entry(11, "tier", "front"),
      entry(12, "note", ""),
      msg(13, str(1, "Pool"), str(3, "lan"), str(4, "u-1"), str(5, "herald.dev/v1"), int(6, true)),
      str(14, "herald.dev/address"),
      str(14, "other/finalizer"),
    );
    assert.deepEqual(decoded(body("v1", "Namespace", meta, msg(2, str(1, "kubernetes")))), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        generateName: "web-",
        namespace: "shop",
        uid: "1234-5678",
        resourceVersion: "42",
        generation: 3,
        creationTimestamp: "2023-11-14T22:13:20Z",
        deletionGracePeriodSeconds: 0,
        labels: { app: "web", tier: "front" },
        annotations: { note: "" },
        ownerReferences: [
          { kind: "Pool", name: "lan", uid: "u-1", apiVersion: "herald.dev/v1", controller: true },
        ],
        finalizers: ["herald.dev/address", "other/finalizer"],
      },
      spec: { finalizers: ["kubernetes"] },
    });
  });

  it("gives Secret and ConfigMap bytes as base64, and keeps pointer fields that are false", () => {
    const binary = new Uint8Array([0, 255, 16]);
    assert.deepEqual(
      decoded(
        body(
          "v1",
          "Secret",
          msg(1, str(1, "creds")),
          entry(2, "user", Buffer.from("admin")),
          entry(2, "empty", new Uint8Array()),
          str(3, "Opaque"),
          entry(4, "plain", "text"),
          int(5, false),
        ),
      ),
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "creds" },
        data: { user: "YWRtaW4=", empty: "" },
        type: "Opaque",
        stringData: { plain: "text" },
        immutable: false,
      },
    );
    assert.deepEqual(
      decoded(
        body(
          "v1",
          "ConfigMap",
          msg(1, str(1, "cfg")),
          entry(2, "a", "1"),
          entry(3, "blob", binary),
          int(4, true),
        ),
      ),
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "cfg" },
        data: { a: "1" },
        binaryData: { blob: Buffer.from(binary).toString("base64") },
        immutable: true,
      },
    );
  });

  it("reads every ServiceSpec field, negative ints, and drops Go's zero values", () => {
    const spec = msg(
      2,
      msg(1, str(1, "dns"), str(2, "UDP"), int(3, 53), msg(4, int(1, 0), int(2, 0)), int(5, -1)),
      entry(2, "app", "dns"),
      str(3, ""),
      str(4, "LoadBalancer"),
      str(5, "192.0.2.1"),
      str(7, "ClientIP"),
      str(8, "192.0.2.10"),
      str(9, "10.0.0.0/8"),
      str(10, ""),
      str(11, "Local"),
      int(12, 31000),
      int(13, false),
      msg(14, msg(1, int(1, 600))),
      str(17, "PreferDualStack"),
      str(18, "10.96.0.1"),
      str(19, "IPv4"),
      str(19, "IPv6"),
      int(20, false),
      str(21, "herald.dev/lb"),
      str(22, "Cluster"),
      str(23, "PreferClose"),
    );
    assert.deepEqual(decoded(body("v1", "Service", msg(1, str(1, "dns")), spec)).spec, {
      // targetPort 0 is "not given": the server defaults it to the port.
      ports: [{ name: "dns", protocol: "UDP", port: 53, nodePort: -1 }],
      selector: { app: "dns" },
      type: "LoadBalancer",
      externalIPs: ["192.0.2.1"],
      sessionAffinity: "ClientIP",
      loadBalancerIP: "192.0.2.10",
      loadBalancerSourceRanges: ["10.0.0.0/8"],
      externalTrafficPolicy: "Local",
      healthCheckNodePort: 31000,
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
      ipFamilyPolicy: "PreferDualStack",
      clusterIPs: ["10.96.0.1"],
      ipFamilies: ["IPv4", "IPv6"],
      allocateLoadBalancerNodePorts: false,
      loadBalancerClass: "herald.dev/lb",
      internalTrafficPolicy: "Cluster",
      trafficDistribution: "PreferClose",
    });
  });

  it("skips fields it does not know, of every wire type", () => {
    const fixed64 = concat(tag(30, 1), new Uint8Array(8));
    const fixed32 = concat(tag(31, 5), new Uint8Array(4));
    const object = decoded(
      body(
        "v1",
        "ConfigMap",
        msg(1, str(1, "cfg"), msg(17, str(1, "kubectl-create"))), // managedFields
        int(29, 7),
        fixed64,
        fixed32,
        msg(28, str(1, "nested")),
        entry(2, "a", "1"),
      ),
    );
    assert.deepEqual(object, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { a: "1" },
    });
  });

  it("says why a body cannot be read", () => {
    assert.match(problem(Buffer.from('{"kind":"Namespace"}')), /does not start with "k8s\\0"/);
    assert.match(
      problem(body("apps/v1", "Deployment", msg(1, str(1, "web")))),
      /apps\/v1 Deployment is not one of them/,
    );
    const whole = body("v1", "Namespace", msg(1, str(1, "shop")));
    assert.match(problem(whole.subarray(0, whole.length - 8)), /malformed: .*past the end/);
    assert.match(
      problem(concat(body("v1", "Namespace"), tag(5, 3))),
      /malformed: field 5 has wire type 3/,
    );
    assert.match(
      problem(body("v1", "Namespace", str(1, "not a message"))),
      /malformed/,
      "a string where ObjectMeta belongs",
    );
    const gzipped = concat(
      Buffer.from("k8s\0"),
      msg(1, str(1, "v1"), str(2, "Namespace")),
      bytes(2, new Uint8Array([1, 2])),
      str(3, "gzip"),
    );
    assert.match(problem(gzipped), /gzip-encoded/);
  });
});
