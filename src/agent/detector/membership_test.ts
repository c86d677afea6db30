import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSecretKey } from "node:crypto";
import {
  FANOUT,
  Membership,
  type MembershipEvent,
  type Outgoing,
  type Step,
  verifyMs,
} from "./membership.ts";
import { ringPosition } from "./ring.ts";
import {
  MAX_INCARNATION,
  MAX_PACKET,
  NEVER,
  encode,
  type Message,
  type MessageType,
  type Rumour,
} from "./wire.ts";

const timing = { intervalMs: 100, suspicionMs: 300, timeoutMs: 700 };
/** How long a member has to answer before a rumour of its death is believed (at most). */
const VERIFY_MS = verifyMs(timing, false);
const T0 = 1_000_000;
const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);

function membership(self: string, members: string[], now = T0): Membership {
  const m = new Membership({ self, incarnation: now, timing, now, members });
  m.start();
  return m;
}

interface Sent {
  to: string;
  type: MessageType;
  subject?: string;
  age?: number;
  rumours: Rumour[];
}

/** A copy of a step (whose arrays are reused by the next call). */
function copy(step: Step): { send: Sent[]; events: MembershipEvent[] } {
  return {
    send: step.send.map((o: Outgoing) => ({
      ...o,
      rumours: o.rumours.map((r) => ({ name: r.name, incarnation: r.incarnation, dead: r.dead })),
    })),
    events: [...step.events],
  };
}

function message(
  type: MessageType,
  sender: string,
  incarnation: number,
  extra: Partial<Message> = {},
): Message {
  return {
    type,
    sender,
    receiver: "self",
    incarnation,
    sentAt: 0,
    seq: 0,
    rumours: [],
    ...extra,
  };
}

/** Every member's incarnation, as the members were started at T0. */
const INC = T0;

/** Heartbeats from every watched member except `silent`, from `from` to `to` by interval. */
function hearOthers(m: Membership, silent: string[], from: number, to: number): void {
  for (let t = from; t <= to; t += timing.intervalMs) {
    for (const name of m.watched())
      if (!silent.includes(name)) m.receive(t, message("heartbeat", name, INC));
    m.tick(t);
  }
}

describe("Membership", () => {
  it("sends heartbeats to the FANOUT members after it on the ring and so is watched by them", () => {
    for (let n = 1; n <= 8; n++) {
      const all = names(n);
      const views = new Map(all.map((name) => [name, membership(name, all)]));
      for (const [name, view] of views) {
        assert.equal(view.targets().length, Math.min(FANOUT, n - 1));
        for (const target of view.targets())
          assert.ok(views.get(target)!.watched().includes(name), `${target} watches ${name}`);
        for (const watched of view.watched())
          assert.ok(views.get(watched)!.targets().includes(name));
      }
    }
  });

  it("sends a heartbeat each interval from the start, and nothing else while all is well", () => {
    const m = membership("node-0", names(6));
    const first = copy(m.tick(T0));
    assert.deepEqual(
      first.send.map((s) => [s.to, s.type]),
      m.targets().map((t) => [t, "heartbeat"]),
    );
    assert.equal(m.nextWakeup(), T0 + 100);
    assert.deepEqual(copy(m.tick(T0 + 50)).send, []);
    assert.equal(copy(m.tick(T0 + 100)).send.length, 3);
    hearOthers(m, [], T0 + 200, T0 + 5_000);
    assert.deepEqual(m.view().suspects, []);
    assert.deepEqual(m.view().dead, []);
  });

  it("tells every member it is alive when it starts, and each member added later", () => {
    const m = new Membership({
      self: "node-0",
      incarnation: T0,
      timing,
      now: T0,
      members: names(4),
    });
    assert.deepEqual(
      copy(m.start())
        .send.map((s) => [s.to, s.type])
        .sort(),
      [
        ["node-1", "alive"],
        ["node-2", "alive"],
        ["node-3", "alive"],
      ],
    );
    const added = copy(m.setMembers([...names(4), "node-9"], T0 + 10));
    assert.deepEqual(added.send, [{ to: "node-9", type: "alive", rumours: [] }]);
    assert.deepEqual(added.events, [{ kind: "members" }]);
    assert.equal(m.isAlive("node-9"), true);
  });

  it("spreads the news that it is alive over a second in a large cluster", () => {
    const all = names(200);
    const m = new Membership({ self: "node-0", incarnation: T0, timing, now: T0, members: all });
    const told = new Set<string>();
    const alive = (step: Step) => {
      const sent = step.send.filter((s) => s.type === "alive");
      for (const s of sent) told.add(s.to);
      return sent.length;
    };
    assert.equal(alive(m.start()), 20);
    for (let t = T0; t < T0 + 800; t += 100) assert.equal(alive(m.tick(t)), 20);
    assert.equal(alive(m.tick(T0 + 800)), 19);
    assert.equal(alive(m.tick(T0 + 900)), 0);
    assert.equal(told.size, 199);
  });

  it("suspects a silent member, probes it and asks its other watchers; fresh word clears it", () => {
    const all = names(8);
    const m = membership("node-0", all);
    const [silent] = m.watched();
    hearOthers(m, [silent!], T0, T0 + 200);
    const step = copy(m.tick(T0 + 300));
    assert.deepEqual(step.events, [{ kind: "suspect", name: silent }]);
    // Its watchers are the members it sends heartbeats to.
    const watchers = membership(silent!, all)
      .targets()
      .filter((name) => name !== "node-0");
    assert.deepEqual(
      step.send.filter((s) => s.type !== "heartbeat"),
      [
        { to: silent, type: "probe", rumours: [] },
        ...watchers.map((to) => ({ to, type: "query", subject: silent, rumours: [] })),
      ],
    );
    assert.deepEqual(m.view().suspects, [silent]);
    assert.equal(m.isAlive(silent!), true, "suspect is not dead");

    // Another watcher heard it 350 ms ago: no fresher than what we know.
    m.receive(T0 + 310, message("answer", watchers[0]!, INC, { subject: silent, age: 350 }));
    assert.deepEqual(m.view().suspects, [silent]);
    // Another heard it 20 ms ago: alive, and the silence is measured from then.
    const cleared = copy(
      m.receive(T0 + 320, message("answer", watchers[1]!, INC, { subject: silent, age: 20 })),
    );
    assert.deepEqual(cleared.events, [{ kind: "cleared", name: silent }]);
    // Heard of at T0+300: suspect again at T0+600.
    hearOthers(m, [silent!], T0 + 400, T0 + 500);
    assert.deepEqual(m.view().suspects, []);
    assert.deepEqual(copy(m.tick(T0 + 600)).events, [{ kind: "suspect", name: silent }]);
  });

  it("answers a query with how long ago it heard the subject itself", () => {
    const m = membership("node-0", names(5));
    m.receive(T0 + 10, message("heartbeat", "node-3", INC));
    const answer = copy(m.receive(T0 + 60, message("query", "node-1", INC, { subject: "node-3" })));
    assert.deepEqual(answer.send, [
      { to: "node-1", type: "answer", subject: "node-3", age: 50, rumours: [] },
    ]);
    const never = copy(m.receive(T0 + 60, message("query", "node-1", INC, { subject: "node-4" })));
    assert.equal(never.send[0]!.age, NEVER);
  });

  it("acks a probe", () => {
    const m = membership("node-0", names(5));
    assert.deepEqual(copy(m.receive(T0, message("probe", "node-2", INC))).send, [
      { to: "node-2", type: "ack", rumours: [] },
    ]);
  });

  it("leaves a member's death to its first watcher for an interval per rank", () => {
    const all = names(8);
    const m = membership("node-0", all);
    // We are the second watcher of the second member we watch.
    const second = m.watched()[1]!;
    assert.equal(membership(second, all).targets()[1], "node-0");
    hearOthers(m, [second], T0, T0 + 700);
    assert.equal(m.isAlive(second), true, "its first watcher declares it now");
    hearOthers(m, [second], T0 + 800, T0 + 800);
    assert.equal(m.isAlive(second), false, "unless it is gone too");
  });

  it("declares a member silent for timeoutMs dead, tells every member, and keeps saying so", () => {
    const all = names(8);
    const m = membership("node-0", all);
    const [silent] = m.watched();
    hearOthers(m, [silent!], T0, T0 + 600);
    const before = m.watched();
    const step = copy(m.tick(T0 + 700));
    assert.deepEqual(
      step.events.filter((e) => e.kind !== "ready"),
      [{ kind: "dead", name: silent, incarnation: 0, declared: true }],
    );
    const notices = step.send.filter((s) => s.type === "notice");
    assert.deepEqual(
      notices.map((s) => s.to).sort(),
      all.filter((name) => name !== "node-0").sort(),
    );
    for (const notice of notices)
      assert.deepEqual(notice.rumours, [{ name: silent, incarnation: 0, dead: true }]);
    assert.equal(m.isAlive(silent!), false);
    assert.deepEqual(m.view().dead, [silent]);
    // The next member back on the ring takes its place, and is judged from now.
    assert.equal(m.watched().includes(silent!), false);
    assert.equal(m.watched().length, FANOUT);
    assert.deepEqual(m.watched().filter((name) => !before.includes(name)).length, 1);
    const heartbeats = copy(m.tick(T0 + 800)).send.filter((s) => s.type === "heartbeat");
    assert.equal(heartbeats.length, FANOUT);
    for (const heartbeat of heartbeats)
      assert.deepEqual(heartbeat.rumours, [{ name: silent, incarnation: 0, dead: true }]);
  });

  it("counts the last heartbeat heard, not the suspicion, towards the timeout", () => {
    const m = membership("node-0", names(8));
    const [silent] = m.watched();
    hearOthers(m, [], T0, T0 + 100);
    hearOthers(m, [silent!], T0 + 200, T0 + 700);
    assert.equal(m.isAlive(silent!), true);
    assert.equal(m.nextWakeup(), T0 + 100 + 700);
    hearOthers(m, [silent!], T0 + 800, T0 + 800);
    assert.equal(m.isAlive(silent!), false);
  });

  it("does not count its own stall as the members' silence", () => {
    const m = membership("node-0", names(8));
    hearOthers(m, [], T0, T0 + 1_000);
    // The event loop was blocked for a second: the heartbeats of that second are still
    // queued in the socket when the timer fires.
    const late = copy(m.tick(T0 + 2_000));
    assert.deepEqual(late.events, []);
    assert.equal(m.isolated(), false);
    hearOthers(m, [], T0 + 2_001, T0 + 2_001);
    assert.deepEqual(m.view().suspects, []);
    // A member that really is silent is declared after timeoutMs of our being awake.
    const [silent] = m.watched();
    hearOthers(m, [silent!], T0 + 2_100, T0 + 2_600);
    assert.equal(m.isAlive(silent!), true);
    hearOthers(m, [silent!], T0 + 2_700, T0 + 2_800);
    assert.equal(m.isAlive(silent!), false);
  });

  it("checks a peer's word that a member is dead with the member, and believes it only unanswered", () => {
    const m = membership("node-0", names(6));
    const rumour = { name: "node-4", incarnation: INC, dead: true };
    const told = copy(m.receive(T0, message("heartbeat", "node-1", INC, { rumours: [rumour] })));
    assert.deepEqual(told.events, [], "hearsay alone kills no one (it did, at once, before)");
    assert.deepEqual(told.send, [{ to: "node-4", type: "probe", rumours: [] }]);
    assert.equal(m.isAlive("node-4"), true);
    // It answers: still alive, and the check is over.
    m.receive(T0 + 2, message("ack", "node-4", INC));
    assert.deepEqual(copy(m.tick(T0 + VERIFY_MS)).events, []);
    assert.equal(m.isAlive("node-4"), true);
    // The same rumour again, having heard node-4 itself lately: its bearer is told it lives.
    const again = copy(
      m.receive(T0 + 50, message("heartbeat", "node-2", INC, { rumours: [rumour] })),
    );
    assert.deepEqual(again.send, [
      {
        to: "node-2",
        type: "notice",
        rumours: [{ name: "node-4", incarnation: INC, dead: false }],
      },
    ]);
    // Later, and unanswered: believed, and node-4 is told (so that, alive, it refutes).
    const later = T0 + 400;
    m.receive(later, message("heartbeat", "node-2", INC, { rumours: [rumour] }));
    const settled = copy(m.tick(later + VERIFY_MS));
    assert.deepEqual(settled.events, [
      { kind: "dead", name: "node-4", incarnation: INC, declared: false },
    ]);
    assert.ok(settled.send.some((o) => o.to === "node-4" && o.type === "notice"));
    assert.equal(m.isAlive("node-4"), false);
    // Any fresh packet of its own brings it back, even at the incarnation it died in (before,
    // only a higher one did — and a rumour at the highest incarnation could never be undone).
    const back = copy(m.receive(later + 300, message("heartbeat", "node-4", INC)));
    assert.deepEqual(back.events, [{ kind: "alive", name: "node-4", incarnation: INC }]);
    assert.equal(m.isAlive("node-4"), true);
    // A rumour older than what we know changes nothing, and its bearer is corrected.
    m.receive(later + 400, message("alive", "node-4", INC + 5));
    const stale = copy(
      m.receive(later + 500, message("heartbeat", "node-3", INC, { rumours: [rumour] })),
    );
    assert.deepEqual(stale.events, []);
    assert.deepEqual(stale.send, [
      {
        to: "node-3",
        type: "notice",
        rumours: [{ name: "node-4", incarnation: INC + 5, dead: false }],
      },
    ]);
  });

  it("waits half an interval for an answer when a watcher says so, a whole one for anyone else", () => {
    const all = names(8);
    const ring = [...all].sort((x, y) => (ringPosition(x) < ringPosition(y) ? -1 : 1));
    const at = (i: number) => ring[(i + ring.length) % ring.length]!;
    // X, one of its watchers (the FANOUT members after it) and a member that is neither;
    // none of them node-0, which does the judging.
    const start = ring.indexOf("node-0") + 1;
    const x = at(start);
    const watchers = [1, 2, 3].map((k) => at(start + k));
    const watcher = watchers.find((n) => n !== "node-0")!;
    const bystander = ring.find((n) => n !== "node-0" && n !== x && !watchers.includes(n))!;
    const rumour = [{ name: x, incarnation: INC, dead: true }];
    for (const [from, waitMs] of [
      [watcher, timing.intervalMs / 2],
      [bystander, timing.intervalMs],
    ] as const) {
      const m = membership("node-0", all);
      m.receive(T0, message("notice", from, INC, { rumours: rumour }));
      m.tick(T0 + waitMs - 1);
      assert.equal(m.isAlive(x), true, `${from}: still checking`);
      m.tick(T0 + waitMs);
      assert.equal(m.isAlive(x), false, `${from}: unanswered after ${waitMs} ms`);
    }
  });

  it("a rumour of death at the highest incarnation evicts no one (it did, for ever)", () => {
    const m = membership("node-0", names(6));
    const forged = { name: "node-4", incarnation: MAX_INCARNATION, dead: true };
    for (let t = T0; t < T0 + 3_000; t += 10) {
      const step = copy(m.receive(t, message("heartbeat", "node-1", INC, { rumours: [forged] })));
      for (const out of step.send)
        if (out.to === "node-4" && out.type === "probe")
          m.receive(t + 1, message("ack", "node-4", INC));
      m.tick(t + 5);
      assert.equal(m.isAlive("node-4"), true, `at ${t - T0} ms`);
    }
  });

  it("alive by hearsay does not revive a dead member: its own answer does", () => {
    const m = membership("node-0", names(6));
    m.receive(
      T0,
      message("notice", "node-1", INC, {
        rumours: [{ name: "node-4", incarnation: INC, dead: true }],
      }),
    );
    m.tick(T0 + VERIFY_MS);
    assert.equal(m.isAlive("node-4"), false);
    const told = copy(
      m.receive(
        T0 + 200,
        message("notice", "node-2", INC, {
          rumours: [{ name: "node-4", incarnation: MAX_INCARNATION, dead: false }],
        }),
      ),
    );
    assert.equal(
      m.isAlive("node-4"),
      false,
      "a key holder cannot keep the dead alive by saying so",
    );
    assert.deepEqual(told.send, [{ to: "node-4", type: "probe", rumours: [] }]);
    m.receive(T0 + 201, message("ack", "node-4", INC + 1));
    assert.equal(m.isAlive("node-4"), true);
  });

  it("refutes its own death with a newer incarnation, told to every member", () => {
    const all = names(5);
    const m = membership("node-0", all);
    const step = copy(
      m.receive(
        T0 + 50,
        message("notice", "node-1", INC, {
          rumours: [{ name: "node-0", incarnation: INC, dead: true }],
        }),
      ),
    );
    assert.deepEqual(step.events, [{ kind: "refuted", incarnation: INC + 50 }]);
    assert.equal(m.incarnation, INC + 50);
    assert.deepEqual(
      step.send.map((s) => [s.to, s.type]).sort(),
      all.slice(1).map((name) => [name, "alive"]),
    );
    // A notice of the death already refuted: the bearer is told we are alive, nothing more.
    const stale = copy(
      m.receive(
        T0 + 200,
        message("notice", "node-2", INC, {
          rumours: [{ name: "node-0", incarnation: INC, dead: true }],
        }),
      ),
    );
    assert.deepEqual(stale.events, []);
    assert.deepEqual(stale.send, [
      {
        to: "node-2",
        type: "notice",
        rumours: [{ name: "node-0", incarnation: INC + 50, dead: false }],
      },
    ]);
  });

  it("refutes at most once per timeout however many rumours arrive (it was once per rumour)", () => {
    const all = names(20);
    const m = membership("node-0", all);
    const forged = [{ name: "node-0", incarnation: MAX_INCARNATION, dead: true }];
    let alive = 0;
    let sent = 0;
    const duration = 3_000;
    for (let t = T0; t < T0 + duration; t += 10) {
      // Every other member, every 10 ms, says we are dead at the highest incarnation.
      for (const sender of all.slice(1)) {
        const step = m.receive(t, message("heartbeat", sender, INC, { rumours: forged }));
        sent += step.send.length;
        alive += step.send.filter((o) => o.type === "alive").length;
      }
      sent += m.tick(t).send.length;
    }
    const others = all.length - 1;
    const refutations = Math.ceil(duration / timing.timeoutMs);
    assert.ok(alive <= others * refutations, `${alive} refutation packets`);
    // Refutations, one correction per sender per interval, heartbeats: O(N) per interval.
    const perInterval = sent / (duration / timing.intervalMs);
    assert.ok(perInterval <= 2 * others + FANOUT, `${perInterval} packets per interval`);
    assert.equal(m.incarnation, MAX_INCARNATION);
  });

  it("is isolated when it hears from too few members, and then declares no one dead", () => {
    const m = membership("node-0", names(8));
    hearOthers(m, [], T0, T0 + 1_000);
    // Silence from everyone.
    const events: MembershipEvent[] = [];
    for (let t = T0 + 1_100; t <= T0 + 3_000; t += 100) events.push(...copy(m.tick(t)).events);
    assert.equal(m.isolated(), true);
    assert.ok(events.some((e) => e.kind === "isolated"));
    assert.ok(!events.some((e) => e.kind === "dead"));
    assert.deepEqual(m.view().dead, []);
    assert.deepEqual(m.view().suspects, [...m.watched()].sort());
    // Back: not isolated any more, and the members it watches get two heartbeats' grace.
    const back = copy(m.receive(T0 + 3_010, message("heartbeat", m.watched()[0]!, INC)));
    assert.deepEqual(back.events, [{ kind: "cleared", name: m.watched()[0] }]);
    const connected = copy(m.receive(T0 + 3_020, message("heartbeat", m.watched()[1]!, INC)));
    assert.deepEqual(connected.events, [{ kind: "cleared", name: m.watched()[1] }]);
    const tick = copy(m.tick(T0 + 3_050));
    assert.ok(tick.events.some((e) => e.kind === "connected"));
    assert.equal(m.isolated(), false);
    assert.ok(!tick.events.some((e) => e.kind === "dead"));
    // The third member it watches is silent still: judged from two intervals after the
    // return (T0+3050-500), and as its third watcher, two intervals after its first.
    const third = m.watched()[2]!;
    hearOthers(m, [third], T0 + 3_100, T0 + 3_400);
    assert.equal(m.isAlive(third), true);
    hearOthers(m, [third], T0 + 3_500, T0 + 3_500);
    assert.deepEqual(m.view().dead, [third], "judged again after the grace");
  });

  it("is not isolated when other members answer although the members it watches are silent", () => {
    const m = membership("node-0", names(9));
    hearOthers(m, [], T0, T0 + 1_000);
    const watched = m.watched();
    const others = names(9).filter((n) => n !== "node-0" && !watched.includes(n));
    for (let t = T0 + 1_100; t <= T0 + 1_800; t += 100) {
      m.receive(t, message("answer", others[0]!, INC, { subject: watched[0], age: NEVER }));
      m.receive(t, message("answer", others[1]!, INC, { subject: watched[1], age: NEVER }));
      m.tick(t);
    }
    assert.equal(m.isolated(), false);
    assert.deepEqual(m.view().dead, [...watched].sort());
  });

  it("with one peer, takes its silence for death", () => {
    const m = membership("node-0", names(2));
    hearOthers(m, ["node-1"], T0, T0 + 700);
    assert.equal(m.isolated(), false);
    assert.equal(m.isAlive("node-1"), false);
  });

  it("is ready once it has run for a timeout", () => {
    const m = membership("node-0", names(3));
    assert.equal(m.ready(), false);
    assert.ok(m.nextWakeup() <= T0 + 700);
    m.tick(T0 + 699);
    assert.equal(m.ready(), false);
    assert.deepEqual(copy(m.tick(T0 + 700)).events.filter((e) => e.kind === "ready").length, 1);
    assert.equal(m.ready(), true);
  });

  it("forgets members removed and presumes members added alive", () => {
    const m = membership("node-0", names(6));
    m.receive(
      T0,
      message("notice", "node-1", INC, {
        rumours: [{ name: "node-5", incarnation: INC, dead: true }],
      }),
    );
    m.tick(T0 + VERIFY_MS);
    assert.deepEqual(m.view().dead, ["node-5"]);
    m.setMembers(names(5), T0 + 60);
    assert.deepEqual(m.view(), { members: names(5), suspects: [], dead: [] });
    m.setMembers(names(6), T0 + 70);
    assert.equal(m.isAlive("node-5"), true);
    assert.equal(m.isAlive("node-0"), true);
  });

  it("carries a dead set too large for one heartbeat over several, each fitting a packet", () => {
    const long = (i: number) => `a-node-with-a-long-name-in-a-large-cluster-${i}`;
    const all = ["self", ...Array.from({ length: 300 }, (_, i) => long(i))];
    const m = membership("self", all);
    const rumours = Array.from({ length: 200 }, (_, i) => ({
      name: long(i),
      incarnation: 1,
      dead: true,
    }));
    for (let i = 0; i < rumours.length; i += 20)
      m.receive(T0, message("notice", long(250), INC, { rumours: rumours.slice(i, i + 20) }));
    m.tick(T0 + VERIFY_MS);
    assert.equal(m.view().dead.length, 200);
    const carried = new Set<string>();
    const key = createSecretKey(Buffer.from("k"));
    for (let t = T0 + 200; t < T0 + 1_700; t += 100) {
      for (const name of m.watched()) m.receive(t, message("heartbeat", name, INC));
      const heartbeat = copy(m.tick(t)).send.find((s) => s.type === "heartbeat")!;
      const packet = encode(
        {
          ...heartbeat,
          sender: "self",
          receiver: heartbeat.to,
          incarnation: INC,
          sentAt: T0,
          seq: 1,
        },
        key,
      );
      assert.ok(packet.length <= MAX_PACKET);
      for (const rumour of heartbeat.rumours) carried.add(rumour.name);
    }
    assert.equal(carried.size, 200);
  });

  it("takes new timings at once", () => {
    const m = membership("node-0", names(6));
    m.tick(T0);
    assert.equal(m.nextWakeup(), T0 + 100);
    m.setTiming({ intervalMs: 50, suspicionMs: 150, timeoutMs: 350 }, T0 + 10);
    assert.equal(m.nextWakeup(), T0 + 50);
    const [silent] = m.watched();
    for (let t = T0 + 50; t <= T0 + 300; t += 50) {
      for (const name of m.watched())
        if (name !== silent) m.receive(t, message("heartbeat", name, INC));
      assert.equal(copy(m.tick(t)).send.filter((s) => s.type === "heartbeat").length, 3);
    }
    m.tick(T0 + 350);
    assert.equal(m.isAlive(silent!), false, "declared at the new timeout");
  });

  it("refuses timings out of order", () => {
    assert.throws(
      () =>
        new Membership({
          self: "a",
          incarnation: 1,
          now: 0,
          timing: { intervalMs: 100, suspicionMs: 100, timeoutMs: 700 },
        }),
      RangeError,
    );
  });
});
