// Detectors on real UDP sockets over loopback, several in this one process.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSecretKey } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { pino } from "pino";
import { FailureDetector, type DetectorMember } from "./detector.ts";
import { encode, type Message } from "./wire.ts";

const key = Buffer.from("0123456789abcdef0123456789abcdef");
const settings = { intervalMs: 100, suspicionMs: 300, timeoutMs: 700 };
const log = pino({ level: "silent" });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, predicate: () => boolean, withinMs = 3_000): Promise<number> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > withinMs) assert.fail(`not within ${withinMs} ms: ${what}`);
    await sleep(5);
  }
  return Date.now() - start;
}

/** Starts `n` detectors on `address`, each knowing all the others. */
async function cluster(
  n: number,
  address = "127.0.0.1",
  options: { keyGraceMs?: number } = {},
): Promise<{ detectors: Map<string, FailureDetector>; members: DetectorMember[] }> {
  const detectors = new Map<string, FailureDetector>();
  for (let i = 0; i < n; i++) {
    const self = `node-${i}`;
    detectors.set(
      self,
      await FailureDetector.start({
        self,
        bindAddress: address,
        port: 0,
        key,
        settings,
        log,
        ...options,
      }),
    );
  }
  const members = [...detectors].map(([name, d]) => ({ name, address, port: d.port }));
  for (const detector of detectors.values()) detector.setMembers(members);
  return { detectors, members };
}

async function stopAll(detectors: Iterable<FailureDetector>): Promise<void> {
  for (const detector of detectors) await detector.stop();
}

describe("FailureDetector over UDP", () => {
  it("five members agree within a second that a stopped one is dead, and that it is back", async () => {
    const { detectors, members } = await cluster(5);
    try {
      const all = [...detectors.values()];
      await until("all ready", () => all.every((d) => d.ready()));
      for (const d of all) {
        assert.deepEqual(d.view().dead, []);
        assert.equal(d.isolated(), false);
      }
      const victim = detectors.get("node-2")!;
      const port = victim.port;
      const others = all.filter((d) => d !== victim);
      let changes = 0;
      others[0]!.onChange(() => changes++);
      await victim.stop();
      const detected = await until("all see node-2 dead", () =>
        others.every((d) => !d.isAlive("node-2")),
      );
      assert.ok(detected < 1_000, `took ${detected} ms`);
      assert.ok(changes > 0, "onChange fired");
      for (const d of others) {
        assert.deepEqual(d.view().dead, ["node-2"]);
        assert.equal(d.isAlive("node-1"), true);
      }

      // Restarted on the same port: a newer incarnation, so alive again everywhere at once.
      const restarted = await FailureDetector.start({
        self: "node-2",
        bindAddress: "127.0.0.1",
        port,
        key,
        settings,
        log,
        members,
      });
      detectors.set("node-2", restarted);
      const back = await until("all see node-2 alive", () =>
        others.every((d) => d.isAlive("node-2")),
      );
      assert.ok(back < 300, `took ${back} ms`);
      await sleep(1_000);
      for (const d of detectors.values()) {
        assert.deepEqual(d.view().dead, []);
        assert.deepEqual(d.view().suspects, []);
      }
      for (const d of others) assert.equal(d.stats().deaths, 1);
      assert.equal(restarted.stats().refutations, 0);
    } finally {
      await stopAll(detectors.values());
    }
  });

  it("works over IPv6", async () => {
    const { detectors } = await cluster(3, "::1");
    try {
      const all = [...detectors.values()];
      await until("all ready", () => all.every((d) => d.ready()));
      await detectors.get("node-0")!.stop();
      await until("node-0 dead", () => all.slice(1).every((d) => !d.isAlive("node-0")));
      assert.ok(all.slice(1).every((d) => d.stats().packetsReceived > 0));
    } finally {
      await stopAll(detectors.values());
    }
  });

  it("drops and counts forged, replayed, malformed and unknown packets", async () => {
    // "mallory" is a member whose address and port we send from, and so can replay.
    const mallory = createSocket("udp4");
    const stranger = createSocket("udp4");
    await Promise.all(
      [mallory, stranger].map(
        (s) => new Promise<void>((resolve) => s.bind(0, "127.0.0.1", resolve)),
      ),
    );
    const detector = await FailureDetector.start({
      self: "node-0",
      bindAddress: "127.0.0.1",
      port: 0,
      key,
      settings,
      log,
      members: [{ name: "mallory", address: "127.0.0.1", port: mallory.address().port }],
    });
    const send = (socket: Socket, packet: Buffer) =>
      new Promise<void>((resolve) =>
        socket.send(packet, detector.port, "127.0.0.1", () => resolve()),
      );
    const heartbeat = (sender: string, seq: number, changes: Partial<Message> = {}): Message => ({
      type: "heartbeat",
      sender,
      receiver: "node-0",
      incarnation: Date.now(),
      sentAt: Date.now(),
      seq,
      rumours: [],
      ...changes,
    });
    const signing = createSecretKey(key);
    try {
      const genuine = encode(heartbeat("mallory", 1), signing);
      await send(mallory, genuine);
      await send(mallory, genuine);
      await send(mallory, encode(heartbeat("mallory", 2), createSecretKey(Buffer.from("guessed"))));
      await send(mallory, Buffer.from("not a heartbeat at all, just some bytes"));
      await send(mallory, encode(heartbeat("nobody", 3), createSecretKey(key)));
      await send(stranger, encode(heartbeat("mallory", 4), createSecretKey(key)));
      // Captured on its way to node-1 and sent here: refused (accepted before the receiver
      // was in the tag, with one sequence counter for all receivers).
      await send(mallory, encode(heartbeat("mallory", 5, { receiver: "node-1" }), signing));
      // Sent a minute ago: a replay of a packet this window has forgotten, or a clock far off.
      await send(
        mallory,
        encode(heartbeat("mallory", 6, { sentAt: Date.now() - 60_000 }), signing),
      );
      await until("all arrived", () => detector.stats().packetsReceived === 8);
      assert.deepEqual(detector.stats().dropped, {
        unauthenticated: 1,
        replayed: 1,
        stale: 1,
        malformed: 1,
        unknownSender: 2,
        misdirected: 1,
      });
    } finally {
      await detector.stop();
      mallory.close();
      stranger.close();
    }
  });

  it("keeps every member alive through a key rotation, then refuses the old key", async () => {
    const { detectors } = await cluster(4, "127.0.0.1", { keyGraceMs: 600 });
    try {
      const all = [...detectors.values()];
      await until("all ready", () => all.every((d) => d.ready()));
      const newKey = Buffer.from("fedcba9876543210fedcba9876543210");
      // The Secret reaches the nodes over a quarter of the grace period.
      for (const d of all) {
        d.setKey(newKey);
        await sleep(50);
      }
      await sleep(1_500);
      for (const d of all) {
        assert.deepEqual(d.view().dead, []);
        assert.equal(d.stats().dropped.unauthenticated, 0);
      }
      // A straggler still on the old key is refused.
      const straggler = await FailureDetector.start({
        self: "node-9",
        bindAddress: "127.0.0.1",
        port: 0,
        key,
        settings,
        log,
        members: [{ name: "node-0", address: "127.0.0.1", port: all[0]!.port }],
      });
      detectors.set("node-9", straggler);
      await until("straggler refused", () => all[0]!.stats().dropped.unauthenticated > 0);
    } finally {
      await stopAll(detectors.values());
    }
  });

  it("stops cleanly and answers nothing after", async () => {
    const { detectors } = await cluster(2);
    const [a, b] = [...detectors.values()];
    await a!.stop();
    await a!.stop();
    const received = a!.stats().packetsReceived;
    await sleep(300);
    assert.equal(a!.stats().packetsReceived, received);
    await b!.stop();
  });
});
