// The event recorder writing real core/v1 Events into devkube.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { DevKube } from "../devkube/server.ts";
import { FakeClock } from "./clock.ts";
import { CoreV1EventSink } from "./event-sink.ts";
import { EventNotFound, EventRecorder } from "./events.ts";

let kube: DevKube;
let core: CoreV1Api;

before(async () => {
  kube = await DevKube.start();
  const config = new KubeConfig();
  config.loadFromString(kube.kubeconfig());
  core = config.makeApiClient(CoreV1Api);
});
after(() => kube.stop());

describe("CoreV1EventSink", () => {
  it("creates Events the API server accepts, and counts repeats on one of them", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const recorder = new EventRecorder({
      sink: new CoreV1EventSink(core),
      clock,
      component: "controller",
      instance: "pod-1",
    });
    const service = {
      apiVersion: "v1",
      kind: "Service",
      namespace: "default",
      name: "web",
      uid: "u-1",
    };
    recorder.normal(service, "AddressAllocated", "192.0.2.10 from pool lan");
    await recorder.flush();
    await clock.advance(5000);
    recorder.normal(service, "AddressAllocated", "192.0.2.10 from pool lan");
    await recorder.flush();
    const events = (await core.listNamespacedEvent({ namespace: "default" })).items;
    assert.equal(events.length, 1);
    assert.equal(events[0]?.count, 2);
    assert.equal(events[0]?.reason, "AddressAllocated");
    assert.equal(events[0]?.involvedObject.name, "web");
    assert.equal(events[0]?.reportingComponent, "herald.dev/controller");
  });

  it("puts events about cluster-scoped objects in the default namespace", async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const recorder = new EventRecorder({
      sink: new CoreV1EventSink(core),
      clock,
      component: "controller",
      instance: "pod-1",
    });
    recorder.warning(
      { apiVersion: "herald.dev/v1alpha1", kind: "AddressPool", name: "lan" },
      "Conflict",
      "overlaps pool old",
    );
    await recorder.flush();
    const events = (
      await core.listNamespacedEvent({
        namespace: "default",
        fieldSelector: "involvedObject.kind=AddressPool",
      })
    ).items;
    assert.equal(events[0]?.type, "Warning");
  });

  it("reports a patch of a vanished Event as EventNotFound", async () => {
    await assert.rejects(
      new CoreV1EventSink(core).patch("default", "gone", { count: 2 }),
      EventNotFound,
    );
  });
});
