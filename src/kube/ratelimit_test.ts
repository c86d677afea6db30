import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../clock.ts";
import { TokenBucket } from "./ratelimit.ts";

describe("TokenBucket", () => {
  it("allows a burst, then refills at qps", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(2, 3, clock);
    assert.deepEqual([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()], [true, true, true]);
    assert.equal(bucket.tryTake(), false);
    await clock.advance(499);
    assert.equal(bucket.tryTake(), false);
    await clock.advance(1);
    assert.equal(bucket.tryTake(), true);
    await clock.advance(60_000);
    let taken = 0;
    while (bucket.tryTake()) taken++;
    assert.equal(taken, 3, "never more than the burst");
  });

  it("spaces reservations evenly once the burst is spent", () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 2, clock);
    assert.deepEqual(
      Array.from({ length: 5 }, () => bucket.reserve()),
      [0, 0, 100, 200, 300],
    );
  });

  it("makes wait() resolve when the token is due", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    await bucket.wait();
    let done = false;
    const waiting = bucket.wait().then(() => (done = true));
    await clock.advance(999);
    assert.equal(done, false);
    await clock.advance(1);
    await waiting;
    assert.equal(done, true);
  });

  it("rejects nonsense settings", () => {
    assert.throws(() => new TokenBucket(0, 1, new FakeClock()));
    assert.throws(() => new TokenBucket(1, 0, new FakeClock()));
  });
});
