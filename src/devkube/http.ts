// Writing answers: every API answer is JSON (kubectl and client-node accept it whatever
// they asked for), and failures are metav1.Status bodies with their HTTP code.
import type { ServerResponse } from "node:http";
import type { StatusError } from "./status.ts";

export function sendJson(response: ServerResponse, code: number, body: unknown): void {
  sendRawJson(response, code, JSON.stringify(body));
}

/** Sends text that already is JSON. */
export function sendRawJson(response: ServerResponse, code: number, text: string): void {
  response.writeHead(code, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

export function sendText(response: ServerResponse, code: number, body: string): void {
  response.writeHead(code, { "Content-Type": "text/plain" });
  response.end(body);
}

export function sendStatus(response: ServerResponse, error: StatusError): void {
  // A watch that has begun streaming can only be ended.
  if (response.headersSent) {
    response.end();
    return;
  }
  sendJson(response, error.code, error.body);
}

export function isStatusError(value: unknown): value is StatusError {
  return typeof value === "object" && value !== null && "code" in value && "body" in value;
}
