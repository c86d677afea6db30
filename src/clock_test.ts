import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock, realClock, within } from "./clock.ts";

describe("FakeClock", () => {
  it("fires due timers in time order, ties in the order they were set", async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => fired.push("never"), 5);
    clock.clearTimeout(cancelled);
    await clock.advance(15);
    assert.deepEqual(fired, ["a@10"]);
    assert.equal(clock.now(), 15);
    await clock.advance(100);
    assert.deepEqual(fired, ["a@10", "b@20", "c@20"]);
    assert.equal(clock.now(), 115);
    assert.equal(clock.pending, 0);
  });

  it("runs timers set by timers and by the promise chains they resume", async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(10);
        seen.push(clock.now());
      }
    })();
    await clock.advance(100);
    assert.deepEqual(seen, [10, 20, 30]);
  });

  it("ends a sleep early, with false, when its signal aborts", async () => {
    const clock = new FakeClock(0);
    const abort = new AbortController();
    const slept = clock.sleep(1000, abort.signal);
    abort.abort();
    assert.equal(await slept, false);
    assert.equal(clock.pending, 0);
    assert.equal(await clock.sleep(10, abort.signal), false);
    const full = clock.sleep(10);
    assert.ok(await clock.step());
    assert.equal(await full, true);
    assert.equal(await clock.step(), false);
  });
});

describe("realClock", () => {
  it("sleeps and can be aborted without leaving a timer behind", async () => {
    assert.equal(await realClock.sleep(1), true);
    const abort = new AbortController();
    const slept = realClock.sleep(60_000, abort.signal);
    abort.abort();
    assert.equal(await slept, false);
  });
});

describe("within", () => {
  it("gives the promise's value and leaves no timer behind; else the fallback once the time is up", async () => {
    const clock = new FakeClock();
    assert.equal(await within(clock, 1000, Promise.resolve("done"), "late"), "done");
    assert.equal(clock.pending, 0, "the timer is cleared: it would keep a stopping process alive");
    const never = new Promise<string>(() => {});
    const waited = within(clock, 1000, never, "late");
    await clock.advance(999);
    assert.equal(clock.pending, 1);
    await clock.advance(1);
    assert.equal(await waited, "late");
    assert.equal(clock.pending, 0);
  });
});
