// For tests: an HTTP transport for client-node's generated APIs that records each request
// and answers from a function, so request building (paths, headers, bodies) and response
// handling are exercised without a server.
import {
  ResponseContext,
  SelfDecodingBody,
  ServerConfiguration,
  createConfiguration,
  wrapHttpLibrary,
  type Configuration,
  type Middleware,
  type RequestContext,
} from "@kubernetes/client-node";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeReply {
  status: number;
  body?: unknown;
}

export interface FakeHttp {
  config: Configuration;
  requests: RecordedRequest[];
}

export function fakeHttp(
  answer: (req: RecordedRequest) => FakeReply | Promise<FakeReply>,
  middleware: Middleware[] = [],
): FakeHttp {
  const requests: RecordedRequest[] = [];
  const httpApi = wrapHttpLibrary({
    async send(ctx: RequestContext): Promise<ResponseContext> {
      const raw = ctx.getBody();
      const req: RecordedRequest = {
        method: ctx.getHttpMethod(),
        url: ctx.getUrl(),
        headers: { ...ctx.getHeaders() },
        body: typeof raw === "string" && raw !== "" ? JSON.parse(raw) : undefined,
      };
      requests.push(req);
      const reply = await answer(req);
      const text = reply.body === undefined ? "" : JSON.stringify(reply.body);
      return new ResponseContext(
        reply.status,
        { "content-type": "application/json" },
        new SelfDecodingBody(Promise.resolve(Buffer.from(text))),
      );
    },
  });
  const config = createConfiguration({
    baseServer: new ServerConfiguration("https://fake.invalid", {}),
    httpApi,
    promiseMiddleware: middleware,
  });
  return { config, requests };
}
