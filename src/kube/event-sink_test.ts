// The event recorder writing real core/v1 Events into an API server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCluster, type TestCluster } from "../../test/cluster.ts";
import { FakeClock } from "../clock.ts";
import { CoreV1EventSink, RawEventSink } from "./event-sink.ts";
import { EventNotFound, EventRecorder, type EventSink } from "./events.ts";
import { RawClient } from "./raw.ts";

let cluster: TestCluster;

before(async () => (cluster = await startCluster({ crds: false })));
after(() => cluster.stop());

const sinks: [string, () => EventSink][] = [
  ["CoreV1EventSink", () => new CoreV1EventSink(cluster.core)],
  ["RawEventSink", () => new RawEventSink(new RawClient(cluster.config))],
];

for (const [sinkName, makeSink] of sinks)
  describe(sinkName, () => {
    it("creates Events the API server accepts, and counts repeats on one of them", async () => {
      const clock = new FakeClock(Date.UTC(2026, 0, 1));
      const recorder = new EventRecorder({
        sink: makeSink(),
        clock,
        component: "controller",
        instance: "pod-1",
      });
      const service = {
        apiVersion: "v1",
        kind: "Service",
        namespace: "default",
        name: `web-${sinkName.toLowerCase()}`,
        uid: "u-1",
      };
      recorder.normal(service, "AddressAllocated", "192.0.2.10 from pool lan");
      await recorder.flush();
      await clock.advance(5000);
      recorder.normal(service, "AddressAllocated", "192.0.2.10 from pool lan");
      await recorder.flush();
      const events = (
        await cluster.core.listNamespacedEvent({
          namespace: "default",
          fieldSelector: `involvedObject.name=${service.name}`,
        })
      ).items;
      assert.equal(events.length, 1);
      assert.equal(events[0]?.count, 2);
      assert.equal(events[0]?.reason, "AddressAllocated");
      assert.equal(events[0]?.involvedObject.name, service.name);
      assert.equal(events[0]?.reportingComponent, "herald.dev/controller");
    });

    it("puts events about cluster-scoped objects in the default namespace", async () => {
      const clock = new FakeClock(Date.UTC(2026, 0, 1));
      const recorder = new EventRecorder({
        sink: makeSink(),
        clock,
        component: "controller",
        instance: "pod-1",
      });
      recorder.warning(
        {
          apiVersion: "herald.dev/v1alpha1",
          kind: "AddressPool",
          name: `lan-${sinkName.toLowerCase()}`,
        },
        "Conflict",
        "overlaps pool old",
      );
      await recorder.flush();
      const events = (
        await cluster.core.listNamespacedEvent({
          namespace: "default",
          fieldSelector: `involvedObject.kind=AddressPool,involvedObject.name=lan-${sinkName.toLowerCase()}`,
        })
      ).items;
      assert.equal(events[0]?.type, "Warning");
    });

    it("reports a patch of a vanished Event as EventNotFound", async () => {
      await assert.rejects(makeSink().patch("default", "gone", { count: 2 }), EventNotFound);
    });
  });
