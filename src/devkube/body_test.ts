import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { readBody } from "./body.ts";
import type { StatusError } from "./status.ts";

function request(contentType: string | undefined, body: Uint8Array | string): IncomingMessage {
  const stream = Readable.from([Buffer.from(body)]) as unknown as IncomingMessage;
  stream.headers = contentType ? { "content-type": contentType } : {};
  return stream;
}

async function refusal(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    return error as StatusError;
  }
  assert.fail("the body was accepted");
}

// kubectl 1.32 `create namespace foo`, from -v=9.
const NAMESPACE = Buffer.from(
  "6b3873000a0f0a02763112094e616d657370616365121b0a130a03666f6f12001a0022002a003200380042001200" +
    "1a020a001a002200",
  "hex",
);

describe("readBody", () => {
  it("reads JSON, whatever JSON type the request names", async () => {
    assert.deepEqual(await readBody(request("application/json", '{"a":1}')), { a: 1 });
    assert.deepEqual(await readBody(request(undefined, "[1]")), [1]);
    assert.deepEqual(
      await readBody(request("application/merge-patch+json; charset=utf-8", '{"b":2}')),
      { b: 2 },
    );
  });

  it("reads the protobuf kubectl's generators send as the same object", async () => {
    assert.deepEqual(await readBody(request("application/vnd.kubernetes.protobuf", NAMESPACE)), {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "foo" },
      spec: {},
    });
  });

  it("refuses protobuf it cannot read, and CBOR, with 415 and what to do instead", async () => {
    const deployment = Buffer.concat([
      Buffer.from("k8s\0"),
      Buffer.from("0a150a07617070732f7631120a4465706c6f796d656e74", "hex"),
    ]);
    const refused = await refusal(
      readBody(request("application/vnd.kubernetes.protobuf", deployment)),
    );
    assert.equal(refused.code, 415);
    assert.match(
      String(refused.body.message),
      /\(Namespace, Service, ConfigMap, Secret\): apps\/v1 Deployment is not one of them; .*kubectl apply -f/,
    );
    const cbor = await refusal(readBody(request("application/cbor", new Uint8Array([0xa0]))));
    assert.equal(cbor.code, 415);
  });

  it("tells empty and broken bodies apart", async () => {
    assert.equal(await readBody(request("application/json", " "), true), undefined);
    assert.equal((await refusal(readBody(request("application/json", "")))).code, 400);
    const broken = await refusal(readBody(request("application/json", "{")));
    assert.equal(broken.code, 400);
    assert.match(String(broken.body.message), /not valid JSON/);
  });
});
