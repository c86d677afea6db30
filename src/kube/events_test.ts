import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CoreV1Event } from "@kubernetes/client-node";
import { FakeClock } from "../clock.ts";
import { EventNotFound, EventRecorder, type EventSink, type InvolvedObject } from "./events.ts";

type Write =
  | { op: "create"; event: CoreV1Event }
  | { op: "patch"; namespace: string; name: string; patch: Record<string, unknown> };

/** Records writes; keeps the Events it has, so patches of unknown ones fail like the API. */
class FakeSink implements EventSink {
  writes: Write[] = [];
  events = new Map<string, CoreV1Event>();
  fail: Error | undefined;

  async create(event: CoreV1Event): Promise<unknown> {
    if (this.fail !== undefined) throw this.fail;
    this.writes.push({ op: "create", event });
    this.events.set(`${event.metadata.namespace}/${event.metadata.name}`, event);
    return event;
  }

  async patch(namespace: string, name: string, patch: Record<string, unknown>): Promise<unknown> {
    if (this.fail !== undefined) throw this.fail;
    this.writes.push({ op: "patch", namespace, name, patch });
    if (!this.events.has(`${namespace}/${name}`)) throw new EventNotFound(name);
    return {};
  }
}

const service: InvolvedObject = {
  apiVersion: "v1",
  kind: "Service",
  namespace: "shop",
  name: "web",
  uid: "1234",
};
const pool: InvolvedObject = {
  apiVersion: "herald.dev/v1alpha1",
  kind: "AddressPool",
  name: "lan",
};

function setup(opts: { log?: { warn: () => void; debug: () => void } } = {}) {
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  const sink = new FakeSink();
  const recorder = new EventRecorder({
    sink,
    clock,
    component: "controller",
    instance: "herald-0",
    ...opts,
  });
  return { clock, sink, recorder };
}

describe("EventRecorder", () => {
  it("writes an Event about the object, in the object's namespace", async () => {
    const { sink, recorder } = setup();
    recorder.normal(service, "AddressAllocated", "allocated 192.0.2.10 from pool lan");
    await recorder.flush();
    const [write] = sink.writes;
    assert.equal(write?.op, "create");
    const event = (write as { event: CoreV1Event }).event;
    assert.equal(event.metadata.namespace, "shop");
    assert.match(event.metadata.name as string, /^web\.[0-9a-f]+$/);
    assert.deepEqual(event.involvedObject, { ...service, resourceVersion: undefined });
    assert.equal(event.type, "Normal");
    assert.equal(event.reason, "AddressAllocated");
    assert.equal(event.message, "allocated 192.0.2.10 from pool lan");
    assert.equal(event.count, 1);
    assert.equal(event.reportingComponent, "herald.dev/controller");
    assert.equal(event.reportingInstance, "herald-0");
    assert.equal(event.firstTimestamp?.toISOString(), "2024-01-01T00:00:00.000Z");
    assert.equal(event.series, undefined);
  });

  it("puts events about cluster-scoped objects in the default namespace", async () => {
    const { sink, recorder } = setup();
    recorder.warning(pool, "Conflict", "overlaps pool wan");
    await recorder.flush();
    const event = (sink.writes[0] as { event: CoreV1Event }).event;
    assert.equal(event.metadata.namespace, "default");
    assert.equal(event.involvedObject.namespace, undefined);
    assert.equal(event.type, "Warning");
  });

  it("counts repeats within ten minutes on one Event", async () => {
    const { clock, sink, recorder } = setup();
    recorder.warning(service, "AllocationFailed", "pool lan is exhausted");
    await clock.advance(60_000);
    recorder.warning(service, "AllocationFailed", "pool lan is exhausted");
    await clock.advance(600_000);
    recorder.warning(service, "AllocationFailed", "pool lan is exhausted");
    await recorder.flush();
    const name = (sink.writes[0] as { event: CoreV1Event }).event.metadata.name;
    assert.deepEqual(
      sink.writes.slice(1).map((w) => w.op === "patch" && [w.namespace, w.name, w.patch]),
      [
        [
          "shop",
          name,
          {
            count: 2,
            lastTimestamp: "2024-01-01T00:01:00.000Z",
            series: { count: 2, lastObservedTime: "2024-01-01T00:01:00.000000Z" },
          },
        ],
        [
          "shop",
          name,
          {
            count: 3,
            lastTimestamp: "2024-01-01T00:11:00.000Z",
            series: { count: 3, lastObservedTime: "2024-01-01T00:11:00.000000Z" },
          },
        ],
      ],
    );
  });

  it("starts a new Event after ten quiet minutes, or for a different message", async () => {
    const { clock, sink, recorder } = setup();
    recorder.normal(service, "Announcing", "node-a eth0");
    recorder.normal(service, "Announcing", "node-b eth0");
    await clock.advance(600_001);
    recorder.normal(service, "Announcing", "node-a eth0");
    await recorder.flush();
    assert.deepEqual(
      sink.writes.map((w) => w.op),
      ["create", "create", "create"],
    );
    const names = sink.writes.map((w) => (w as { event: CoreV1Event }).event.metadata.name);
    assert.equal(new Set(names).size, 3, "distinct names even within one millisecond");
  });

  it("drops a flood about one object beyond 25, refilling one per five minutes", async () => {
    const { clock, sink, recorder } = setup();
    for (let i = 0; i < 30; i++) recorder.normal(service, "Announcing", `attempt ${i}`);
    recorder.normal(pool, "Ready", "other objects are not limited");
    await recorder.flush();
    assert.equal(sink.writes.length, 26);
    assert.equal(recorder.dropped, 5);
    await clock.advance(299_000);
    recorder.normal(service, "Announcing", "still limited");
    await clock.advance(1_000);
    recorder.normal(service, "Announcing", "one more after five minutes");
    await recorder.flush();
    assert.equal(sink.writes.length, 27);
    assert.equal(
      (sink.writes[26] as { event: CoreV1Event }).event.message,
      "one more after five minutes",
    );
    assert.equal(recorder.dropped, 6);
  });

  it("writes anew an Event that has gone, keeping its count", async () => {
    const { sink, recorder } = setup();
    recorder.normal(service, "AddressAllocated", "x");
    await recorder.flush();
    sink.events.clear();
    recorder.normal(service, "AddressAllocated", "x");
    await recorder.flush();
    assert.deepEqual(
      sink.writes.map((w) => w.op),
      ["create", "patch", "create"],
    );
    const recreated = (sink.writes[2] as { event: CoreV1Event }).event;
    assert.equal(recreated.count, 2);
    assert.equal(recreated.series?.count, 2);
  });

  it("never throws into the caller or waits for the API server", async () => {
    let warnings = 0;
    const { sink, recorder } = setup({ log: { warn: () => warnings++, debug: () => {} } });
    sink.fail = new Error("connection refused");
    for (let i = 0; i < 3; i++) recorder.normal(service, "AddressAllocated", `x${i}`);
    await recorder.flush();
    assert.equal(warnings, 1, "a failing API server is logged once, not per event");
    sink.fail = undefined;
    recorder.normal(service, "AddressAllocated", "back");
    await recorder.flush();
    assert.equal(sink.writes.length, 1);

    const throwing = new EventRecorder({
      sink: {
        create: () => {
          throw new Error("synchronous");
        },
        patch: () => Promise.reject(new Error("no")),
      },
      clock: new FakeClock(),
      component: "agent",
      instance: "node-a",
    });
    assert.doesNotThrow(() => throwing.normal(service, "R", "m"));
    await throwing.flush();
  });

  it("sends each Event's patch only after its create has finished", async () => {
    const { sink, recorder } = setup();
    const order: string[] = [];
    let release!: () => void;
    const create = sink.create.bind(sink);
    sink.create = async (event) => {
      order.push("create start");
      await new Promise<void>((r) => (release = r));
      order.push("create end");
      return create(event);
    };
    const patch = sink.patch.bind(sink);
    sink.patch = async (...args) => {
      order.push("patch");
      return patch(...args);
    };
    recorder.normal(service, "R", "m");
    recorder.normal(service, "R", "m");
    await new Promise((r) => setImmediate(r));
    release();
    await recorder.flush();
    assert.deepEqual(order, ["create start", "create end", "patch"]);
  });
});
