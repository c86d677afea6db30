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
  const text = contentType === PROTOBUF ? "" : bytes.toString("utf8");
  if (bytes.length === 0 || (contentType !== PROTOBUF && text.trim() === "")) {
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
    return JSON.parse(text);
  } catch (error) {
    throw failure(400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

// Events rather than `for await`: an async iterator per request (and the stream machinery
// behind it) cost more than parsing the body.
function readBytes(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: unknown) => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", settle);
      request.off("close", onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else {
        request.resume();
        settle(failure(413, "request entity too large", undefined, "RequestEntityTooLarge"));
      }
    };
    const onEnd = () => settle(undefined);
    // A client that goes away mid-body: nothing will answer it, but the handler must end.
    const onClose = () => settle(new Error("the client closed the connection mid-request"));
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", settle);
    request.on("close", onClose);
  });
}

function unsupported(problem: string) {
  return failure(
    415,
    `devkube reads JSON bodies (application/json, ${MERGE_PATCH}, ${JSON_PATCH}, ${STRATEGIC_MERGE_PATCH}), ` +
      `and protobuf ones only of the kinds kubectl create <generator> sends (${PROTOBUF_KINDS.join(", ")}): ` +
      `${problem}; write the object as YAML and use kubectl apply -f or create -f`,
  );
}
