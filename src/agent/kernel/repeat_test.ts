import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startRepeats } from "./repeat.ts";

/** A round that records when it ran and sends `perRound` packets. */
function recorder(perRound = 1) {
  const start = Date.now();
  const times: number[] = [];
  return {
    times,
    send: async () => {
      times.push(Date.now() - start);
      return perRound;
    },
  };
}

describe("startRepeats", () => {
  it("resolves after the first round; the rest follow intervalMs apart", async () => {
    const rounds = recorder(2);
    const announcement = await startRepeats(3, 40, rounds.send);
    assert.equal(announcement.sent, 2, "only the first round is out when it resolves");
    assert.equal(rounds.times.length, 1);
    assert.ok((rounds.times[0] ?? Infinity) < 20, "the first round goes out at once");
    assert.deepEqual(await announcement.done, { sent: 6, rounds: 3, cancelled: false });
    assert.equal(announcement.sent, 6);
    const [, second = 0, third = 0] = rounds.times;
    assert.ok(second >= 35 && third - second >= 35, `rounds at ${rounds.times.join(", ")} ms`);
  });

  it("count 0 sends nothing", async () => {
    const rounds = recorder();
    const announcement = await startRepeats(0, 10, rounds.send);
    assert.deepEqual(await announcement.done, { sent: 0, rounds: 0, cancelled: false });
    assert.equal(rounds.times.length, 0);
  });

  it("an abort stops the repeats", async () => {
    const rounds = recorder();
    const controller = new AbortController();
    const announcement = await startRepeats(5, 30, rounds.send, controller.signal);
    controller.abort();
    assert.deepEqual(await announcement.done, { sent: 1, rounds: 1, cancelled: true });
    assert.equal(rounds.times.length, 1);
  });

  it("an abort before the start rejects and sends nothing", async () => {
    const rounds = recorder();
    await assert.rejects(startRepeats(3, 10, rounds.send, AbortSignal.abort()), {
      name: "AbortError",
    });
    assert.equal(rounds.times.length, 0);
  });

  it("a failing first round rejects: the caller must know nothing went out", async () => {
    await assert.rejects(
      startRepeats(3, 10, async () => {
        throw new Error("arping: eth9: No such device");
      }),
      /No such device/,
    );
  });

  it("a failing later round ends the repeats with the reason, without rejecting", async () => {
    let calls = 0;
    const announcement = await startRepeats(4, 5, async () => {
      calls++;
      if (calls === 2) throw new Error("interface went away");
      return 1;
    });
    assert.deepEqual(await announcement.done, {
      sent: 1,
      rounds: 1,
      cancelled: false,
      error: "interface went away",
    });
    assert.equal(calls, 2);
  });
});
