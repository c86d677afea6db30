// The protocol on a simulated network: Membership state machines exchanging messages with
// random latency and loss, members crashing, restarting and being cut off, in virtual time.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FANOUT, Membership, verifyMs, type MembershipEvent, type Step } from "./membership.ts";
import { ReplayWindow } from "./replay.ts";
import { MAX_INCARNATION, type Message, type MessageType } from "./wire.ts";

const timing = { intervalMs: 100, suspicionMs: 300, timeoutMs: 700 };
const T0 = 1_000_000;
const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

interface Node {
  name: string;
  membership: Membership;
  up: boolean;
  wake: number;
  sent: number;
  /** Events with the virtual time they happened at. */
  events: { at: number; event: MembershipEvent }[];
}

interface InFlight {
  at: number;
  order: number;
  to: string;
  message: Message;
}

/** A min-heap of messages by delivery time (ties in sending order). */
class Queue {
  #items: InFlight[] = [];
  #before = (a: InFlight, b: InFlight) => a.at < b.at || (a.at === b.at && a.order < b.order);

  get size(): number {
    return this.#items.length;
  }

  peek(): InFlight | undefined {
    return this.#items[0];
  }

  push(item: InFlight): void {
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.#before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): InFlight | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.#before(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.#before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** A deterministic generator (mulberry32), so a failing seed replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Network {
  now = T0;
  readonly nodes = new Map<string, Node>();
  readonly all: string[];
  loss: number;
  /** Members whose packets, in and out, are all lost. */
  readonly cut = new Set<string>();
  /** "a>b": packets from a to b are lost. */
  readonly brokenLinks = new Set<string>();
  readonly #queue = new Queue();
  readonly #random: () => number;
  #order = 0;
  /** "receiver<sender" -> the receiver's replay window for that sender (detector.ts). */
  readonly #windows = new Map<string, ReplayWindow>();
  /** Every packet delivered, for an attacker on the path to replay. */
  readonly delivered: InFlight[] = [];
  /** Packets the receiver's checks refused: misdirected, replayed or stale. */
  refused = 0;
  #seq = 0;

  constructor(all: string[], options: { loss?: number; seed?: number } = {}) {
    this.all = all;
    this.loss = options.loss ?? 0;
    this.#random = random(options.seed ?? 1);
  }

  /** Starts (or restarts, with a newer incarnation) the member `name`. */
  start(name: string): void {
    const membership = new Membership({
      self: name,
      incarnation: this.now,
      timing,
      now: this.now,
      members: this.all,
    });
    const node: Node = { name, membership, up: true, wake: this.now, sent: 0, events: [] };
    this.nodes.set(name, node);
    this.#apply(node, membership.start());
  }

  startAll(): void {
    for (const name of this.all) this.start(name);
  }

  crash(name: string): void {
    this.nodes.get(name)!.up = false;
  }

  node(name: string): Node {
    return this.nodes.get(name)!;
  }

  /** Members up, other than `except`. */
  up(except?: string): Node[] {
    return [...this.nodes.values()].filter((n) => n.up && n.name !== except);
  }

  run(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next: Node | undefined;
      for (const node of this.nodes.values())
        if (node.up && (next === undefined || node.wake < next.wake)) next = node;
      const packet = this.#queue.peek();
      if (packet !== undefined && (next === undefined || packet.at <= next.wake)) {
        if (packet.at > until) break;
        this.#queue.pop();
        this.now = Math.max(this.now, packet.at);
        const node = this.nodes.get(packet.to);
        if (node?.up && this.#admits(packet)) {
          this.delivered.push(packet);
          this.#apply(node, node.membership.receive(this.now, packet.message));
        }
        continue;
      }
      if (next === undefined || next.wake > until) break;
      this.now = Math.max(this.now, next.wake);
      this.#apply(next, next.membership.tick(this.now));
    }
    this.now = until;
  }

  /** Puts a packet on the wire, as an attacker would: delivered at `at` to `to`. */
  inject(to: string, message: Message, at = this.now): void {
    this.#queue.push({ at, order: this.#order++, to, message });
  }

  /** What detector.ts checks before the membership sees a packet. */
  #admits(packet: InFlight): boolean {
    const { message } = packet;
    if (message.receiver !== packet.to) return ++this.refused < 0;
    const key = `${packet.to}<${message.sender}`;
    let window = this.#windows.get(key);
    if (!window) this.#windows.set(key, (window = new ReplayWindow()));
    if (window.check(message.sentAt, message.seq, this.now) === "fresh") return true;
    return ++this.refused < 0;
  }

  #apply(node: Node, step: Step): void {
    for (const event of step.events) node.events.push({ at: this.now, event });
    for (const out of step.send) {
      node.sent++;
      if (
        this.cut.has(node.name) ||
        this.cut.has(out.to) ||
        this.brokenLinks.has(`${node.name}>${out.to}`) ||
        this.#random() < this.loss
      )
        continue;
      const message: Message = {
        type: out.type,
        sender: node.name,
        receiver: out.to,
        incarnation: node.membership.incarnation,
        sentAt: Math.floor(this.now),
        seq: this.#seq++,
        rumours: out.rumours.map((r) => ({
          name: r.name,
          incarnation: r.incarnation,
          dead: r.dead,
        })),
      };
      if (out.subject !== undefined) message.subject = out.subject;
      if (out.age !== undefined) message.age = out.age;
      // A LAN: 0.1–2 ms, so packets now and then overtake one another.
      const at = this.now + 0.1 + this.#random() * 1.9;
      this.#queue.push({ at, order: this.#order++, to: out.to, message });
    }
    // The glue's timer never fires twice in one millisecond.
    node.wake = Math.max(node.membership.nextWakeup(), this.now + 1);
  }
}

const deaths = (node: Node) =>
  node.events.filter((e) => e.event.kind === "dead") as {
    at: number;
    event: Extract<MembershipEvent, { kind: "dead" }>;
  }[];

/** When `observer` first saw `name` dead, if it has. */
const sawDead = (observer: Node, name: string) =>
  deaths(observer).find((e) => e.event.name === name)?.at;

describe("the detector protocol on a simulated network", () => {
  it("declares no one dead while every member runs, under up to 10% loss", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 25 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.integer(),
        (n, loss, seed) => {
          const net = new Network(names(n), { loss, seed });
          net.startAll();
          net.run(20_000);
          for (const node of net.nodes.values()) {
            assert.deepEqual(deaths(node), [], `${node.name} saw a death`);
            assert.equal(node.membership.isolated(), false);
            assert.equal(node.membership.ready(), true);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("has every member see a crashed one dead within timeoutMs and two intervals (and a check, with loss)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.integer(),
        fc.nat(),
        fc.integer({ min: 0, max: 999 }),
        (n, loss, seed, pick, offset) => {
          const net = new Network(names(n), { loss, seed });
          net.startAll();
          net.run(2_000 + offset);
          const victim = names(n)[pick % n]!;
          net.crash(victim);
          const crashedAt = net.now;
          // A member whose watchers' word was lost hears of the death from a bystander,
          // and checks it with the victim for a whole interval before it believes it.
          const bound =
            timing.timeoutMs + 2 * timing.intervalMs + (loss > 0 ? verifyMs(timing, false) : 0);
          net.run(bound + timing.intervalMs);
          for (const node of net.up()) {
            const at = sawDead(node, victim);
            assert.ok(at !== undefined, `${node.name} did not see ${victim} die`);
            assert.ok(at - crashedAt <= bound, `${node.name} saw it after ${at - crashedAt} ms`);
            assert.deepEqual(
              deaths(node).map((e) => e.event.name),
              [victim],
              "no other deaths",
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("brings a restarted member back everywhere at once", () => {
    const net = new Network(names(12), { seed: 7 });
    net.startAll();
    net.run(2_000);
    net.crash("node-5");
    net.run(1_000);
    for (const node of net.up()) assert.equal(node.membership.isAlive("node-5"), false);
    net.start("node-5");
    net.run(20);
    for (const node of net.up()) assert.equal(node.membership.isAlive("node-5"), true, node.name);
    // The restarted member learns nothing wrong and is watched again.
    net.run(3_000);
    for (const node of net.up()) {
      assert.deepEqual(node.membership.view().dead, []);
      assert.deepEqual(node.membership.view().suspects, []);
    }
  });

  it("a member cut off is isolated, declares no one, and refutes its death when back", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 30 }),
        fc.nat(),
        fc.integer({ min: 1_000, max: 5_000 }),
        fc.integer(),
        (n, pick, cutFor, seed) => {
          const net = new Network(names(n), { seed });
          net.startAll();
          net.run(2_000);
          const cut = names(n)[pick % n]!;
          net.cut.add(cut);
          net.run(cutFor);
          const node = net.node(cut);
          assert.equal(node.membership.isolated(), true);
          assert.deepEqual(deaths(node), [], "declared nobody dead");
          for (const other of net.up(cut)) assert.equal(other.membership.isAlive(cut), false);
          net.cut.delete(cut);
          net.run(300);
          assert.ok(node.events.some((e) => e.event.kind === "refuted"));
          for (const member of net.up()) {
            assert.deepEqual(member.membership.view().dead, [], `${member.name} view`);
            assert.equal(member.membership.isolated(), false);
          }
          net.run(3_000);
          for (const member of net.up()) assert.deepEqual(member.membership.view().dead, []);
          assert.deepEqual(deaths(node), [], "still declared nobody dead");
        },
      ),
      { numRuns: 25 },
    );
  });

  it("takes a broken link between two members for what it is, not a death", () => {
    const net = new Network(names(10), { seed: 3 });
    net.startAll();
    const watcher = net.node("node-0");
    const [watched] = watcher.membership.watched();
    net.brokenLinks.add(`${watched}>node-0`);
    net.brokenLinks.add(`node-0>${watched}`);
    net.run(10_000);
    for (const node of net.nodes.values()) assert.deepEqual(deaths(node), []);
    assert.ok(
      watcher.events.some((e) => e.event.kind === "suspect"),
      "it was suspected",
    );
  });

  it("declares neighbours on the ring that die together, each member one after the other", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 30 }),
        fc.integer({ min: 2, max: 3 }),
        fc.nat(),
        fc.integer(),
        (n, together, pick, seed) => {
          const net = new Network(names(n), { seed });
          net.startAll();
          net.run(2_000);
          // Consecutive on the ring: a member and the ones it sends heartbeats to.
          const first = names(n)[pick % n]!;
          const victims = [
            first,
            ...net
              .node(first)
              .membership.targets()
              .slice(0, together - 1),
          ];
          for (const victim of victims) net.crash(victim);
          const crashedAt = net.now;
          net.run(4 * timing.timeoutMs);
          for (const node of net.up()) {
            for (const victim of victims) {
              const at = sawDead(node, victim);
              assert.ok(at !== undefined, `${node.name} did not see ${victim} die`);
              assert.ok(at - crashedAt <= 3 * timing.timeoutMs, `after ${at - crashedAt} ms`);
            }
            assert.equal(deaths(node).length, victims.length);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it("sends as many packets per member in a cluster of 200 as in one of 10", () => {
    const rates: number[] = [];
    for (const n of [10, 200]) {
      const net = new Network(names(n), { seed: 11 });
      net.startAll();
      net.run(2_000);
      const before = [...net.nodes.values()].map((node) => node.sent);
      net.run(10_000);
      const sent = [...net.nodes.values()].map((node, i) => node.sent - before[i]!);
      const perSecond = Math.max(...sent) / 10;
      rates.push(perSecond);
      assert.ok(perSecond <= FANOUT * (1_000 / timing.intervalMs) + 1, `${n}: ${perSecond}/s`);
    }
    assert.equal(rates[0], rates[1]);
  });
});

/** Packets a key holder can write: any type, any sender and receiver, any rumours. */
function forgedPacket(members: readonly string[]) {
  const name = fc.oneof(fc.constantFrom(...members), fc.constant("mallory"));
  const incarnation = fc.oneof(
    fc.constant(MAX_INCARNATION),
    fc.constant(0),
    fc.integer({ min: T0 - 1_000, max: T0 + 10_000 }),
  );
  return fc.record({
    after: fc.integer({ min: 0, max: 200 }),
    to: fc.constantFrom(...members),
    sender: name,
    type: fc.constantFrom<MessageType>(
      "heartbeat",
      "probe",
      "ack",
      "query",
      "answer",
      "notice",
      "alive",
    ),
    incarnation,
    subject: name,
    age: fc.oneof(fc.constant(0xffffffff), fc.nat({ max: 10_000 })),
    rumours: fc.array(fc.record({ name, incarnation, dead: fc.boolean() }), { maxLength: 8 }),
  });
}

/** Sequence numbers of forged packets, apart from the members' own. */
let forgedSeq = 0;

/** How long a live member may be taken for dead anywhere, whatever is sent (membership.ts). */
const EVICTION_BOUND_MS = verifyMs(timing, false) + timing.timeoutMs + 4 * timing.intervalMs;

/** For each observer and member, the longest time the observer took the live member for dead. */
function longestEviction(net: Network, until: number): number {
  let longest = 0;
  for (const observer of net.nodes.values()) {
    const deadSince = new Map<string, number>();
    for (const { at, event } of observer.events) {
      if (event.kind === "dead") deadSince.set(event.name, at);
      if (event.kind === "alive" && deadSince.has(event.name)) {
        longest = Math.max(longest, at - deadSince.get(event.name)!);
        deadSince.delete(event.name);
      }
    }
    for (const since of deadSince.values()) longest = Math.max(longest, until - since);
  }
  return longest;
}

describe("the detector protocol under attack", () => {
  it("a key holder's packets, any and in any order, evict no live member (a forged death at the highest incarnation did, for ever)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 12 }),
        fc.array(forgedPacket(names(12)), { minLength: 1, maxLength: 120 }),
        fc.integer(),
        (n, attack, seed) => {
          const members = names(n);
          const net = new Network(members, { seed });
          net.startAll();
          net.run(1_000);
          const before = [...net.nodes.values()].map((node) => node.sent);
          const started = net.now;
          let at = net.now;
          for (const forged of attack) {
            at += forged.after;
            const to = members[Number(forged.to.slice(5)) % n]!;
            const message: Message = {
              type: forged.type,
              sender: forged.sender,
              receiver: to,
              incarnation: forged.incarnation,
              sentAt: Math.floor(at),
              seq: 0x8000_0000 + forgedSeq++,
              rumours: forged.rumours,
            };
            if (forged.type === "query" || forged.type === "answer")
              message.subject = forged.subject;
            if (forged.type === "answer") message.age = forged.age;
            net.inject(to, message, at);
          }
          net.run(at - net.now + 3_000);
          for (const node of net.nodes.values())
            assert.deepEqual(deaths(node), [], `${node.name} took a live member for dead`);
          // What a member sends stays O(N) per interval: no packet makes it broadcast twice
          // in a timeout, or correct one member twice in an interval.
          const intervals = (net.now - started) / timing.intervalMs;
          [...net.nodes.values()].forEach((node, i) => {
            const perInterval = (node.sent - before[i]!) / intervals;
            assert.ok(perInterval <= FANOUT + 4 * n, `${node.name}: ${perInterval} per interval`);
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("with loss as well, a live member taken for dead is back within a bound", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 12 }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.array(forgedPacket(names(12)), { minLength: 1, maxLength: 80 }),
        fc.integer(),
        (n, loss, attack, seed) => {
          const members = names(n);
          const net = new Network(members, { seed, loss });
          net.startAll();
          net.run(1_000);
          let at = net.now;
          for (const forged of attack) {
            at += forged.after;
            const to = members[Number(forged.to.slice(5)) % n]!;
            net.inject(
              to,
              {
                type: "notice",
                sender: forged.sender,
                receiver: to,
                incarnation: forged.incarnation,
                sentAt: Math.floor(at),
                seq: 0x8000_0000 + forgedSeq++,
                rumours: forged.rumours.map((r) => ({ ...r, dead: true })),
              },
              at,
            );
          }
          net.run(at - net.now + 5_000);
          const longest = longestEviction(net, net.now);
          assert.ok(longest <= EVICTION_BOUND_MS, `taken for dead for ${longest} ms`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("an attacker on the path without the key: replays to any member change nothing (replays across receivers were taken)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 12 }),
        fc.array(fc.record({ pick: fc.nat(), to: fc.nat(), delay: fc.nat({ max: 40_000 }) }), {
          minLength: 1,
          maxLength: 200,
        }),
        fc.integer(),
        fc.nat(),
        (n, replays, seed, victimPick) => {
          const members = names(n);
          const net = new Network(members, { seed });
          net.startAll();
          net.run(2_000);
          // The victim dies; the attacker keeps replaying what it captured, to anyone.
          const victim = members[victimPick % n]!;
          net.crash(victim);
          const crashedAt = net.now;
          const captured = [...net.delivered];
          const refusedBefore = net.refused;
          const living = net.up().map((node) => node.name);
          for (const replay of replays) {
            const packet = captured[replay.pick % captured.length]!;
            net.inject(
              living[replay.to % living.length]!,
              packet.message,
              crashedAt + (replay.delay % 2_000),
            );
          }
          net.run(timing.timeoutMs + 3 * timing.intervalMs + 2_000);
          assert.equal(net.refused - refusedBefore, replays.length, "every replay refused");
          for (const node of net.up()) {
            const at = sawDead(node, victim);
            assert.ok(at !== undefined, `${node.name} did not see ${victim} die`);
            assert.ok(
              at - crashedAt <= timing.timeoutMs + 2 * timing.intervalMs + verifyMs(timing),
              `${node.name} saw it after ${at - crashedAt} ms`,
            );
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
