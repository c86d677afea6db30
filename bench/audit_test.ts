import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countAudit } from "./audit.ts";

const event = (id: string, user: string, verb: string, at: string, extra: object = {}) =>
  JSON.stringify({
    kind: "Event",
    auditID: id,
    stage: "ResponseComplete",
    verb,
    user: { username: user },
    objectRef: { resource: "services", subresource: verb === "patch" ? "status" : undefined },
    requestReceivedTimestamp: at,
    responseStatus: { code: 200 },
    ...extra,
  });

describe("countAudit", () => {
  const controller = "system:serviceaccount:herald-system:herald-controller";
  const text = [
    event("a", controller, "patch", "2026-12-03T10:00:00.000Z"),
    event("b", controller, "patch", "2026-12-03T10:00:01.000Z"),
    // A watch: logged when it starts and when it ends, one request.
    event("c", controller, "watch", "2026-12-03T10:00:01.500Z", { stage: "ResponseStarted" }),
    event("c", controller, "watch", "2026-12-03T10:00:01.500Z"),
    event("d", "agent", "get", "2026-12-03T10:00:02.000Z", { responseStatus: { code: 403 } }),
    '{"auditID": "e", "verb": "get"', // cut off mid-write
    "",
  ].join("\n");

  it("counts each request once, by user and by verb and resource", () => {
    const counts = countAudit(text);
    assert.deepEqual(counts.byUser, { [controller]: 3, agent: 1 });
    assert.deepEqual(counts.byUserAndVerb[controller], {
      "patch services/status": 2,
      "watch services": 1,
    });
    assert.deepEqual(counts.forbidden, { agent: 1 });
  });

  it("keeps to the window, by when the request was received", () => {
    const counts = countAudit(text, {
      from: Date.parse("2026-12-03T10:00:01.000Z"),
      to: Date.parse("2026-12-03T10:00:02.000Z"),
    });
    assert.deepEqual(counts.byUser, { [controller]: 2 });
  });
});
