// Request bodies, read into plain objects: JSON (and its patch types) from everyone, and
// the Kubernetes protobuf that kubectl's generators (`kubectl create namespace|service|
// configmap|secret …`) send without falling back to JSON when refused.
import type { IncomingMessage } from "node:http";
import { JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH } from "./patch.ts";
import { decodeKubeProtobuf, PROTOBUF, PROTOBUF_KINDS } from "./protobuf.ts";
import { failure } from "./status.ts";

const MAX_BODY = 32 << 20;

/** The body as an object; undefined for an empty one when `optional`. Throws StatusErrors. */
export async function readBody(request: IncomingMessage, optional = false): Promise<unknown> {
  const bytes = await readBytes(request);
  const contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (bytes.length === 0 || (contentType !== PROTOBUF && bytes.toString("utf8").trim() === "")) {
    if (optional) return undefined;
    throw failure(400, "the request body is empty");
  }
  if (contentType === PROTOBUF) {
    const decoded = decodeKubeProtobuf(bytes);
    if ("problem" in decoded) throw unsupported(decoded.problem);
    return decoded.object;
  }
  if (contentType.includes("protobuf") || contentType.includes("cbor"))
    throw unsupported(`${contentType} is not a format devkube reads`);
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw failure(400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

async function readBytes(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw failure(413, "request entity too large", undefined, "RequestEntityTooLarge");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function unsupported(problem: string) {
  return failure(
    415,
    `devkube reads JSON bodies (application/json, ${MERGE_PATCH}, ${JSON_PATCH}, ${STRATEGIC_MERGE_PATCH}), ` +
      `and protobuf ones only of the kinds kubectl create <generator> sends (${PROTOBUF_KINDS.join(", ")}): ` +
      `${problem}; write the object as YAML and use kubectl apply -f or create -f`,
  );
}
