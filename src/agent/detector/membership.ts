// Who is alive, as this node sees it: the failure detector's state machine. Pure — times
// come in as numbers, packets as decoded messages, and what to send goes out as plain data;
// detector.ts owns the socket and the one timer.
//
// The protocol (docs/architecture.md, "Failure detector", says why):
// - Members sit on a ring ordered by sha256(name). Each interval a member sends a heartbeat
//   to the FANOUT live members after it, so it hears from the FANOUT before it (the
//   members it *watches*) and is watched by the FANOUT after it. Packets per member per
//   interval: FANOUT out, FANOUT in, whatever the cluster's size.
// - A watched member silent for suspicionMs is suspect: each interval, we probe it and ask
//   its other watchers how long ago they heard it. Any fresher sign of life clears it.
// - Silent for timeoutMs, it is dead: its first watcher (the member just after it) sends
//   a notice of its death at its incarnation to every member at once (deaths are rare, so
//   an O(N) burst is cheap and dissemination immediate). Its other watchers wait one and
//   two intervals more, and so need not repeat the burst unless the first is gone too.
//   Every heartbeat carries our dead set, so a lost notice or a late joiner converges
//   within an interval.
// - Only a member speaks for itself. Every key holder can write any rumour, in any
//   member's name, so hearsay never decides: told that X is dead, a member probes X and
//   believes it only if X says nothing for half an interval (verifyMs); told X is alive
//   while it thinks X dead, it probes X too. Any fresh authenticated packet from X itself
//   is X alive, whatever incarnation a rumour named. So no sequence of packets keeps a
//   live, reachable member dead anywhere for longer than verifyMs + timeoutMs (its next
//   refutation), and a rumour of the highest incarnation is as harmless as any other.
// - Incarnations only say which rumour is stale: a member raises its own when told it is
//   dead at its incarnation or later, and when it starts. Its refutation — telling every
//   member it is alive — goes out at most once per timeoutMs however many rumours arrive,
//   and a member corrects any one other member at most once per interval, so what a
//   member sends stays O(N) per timeoutMs under any flood, not O(N) per packet received.
// - A member that hears from fewer than half of its watched members (or anyone standing in
//   for them) for timeoutMs is isolated: it declares no one dead, because the silence is
//   more likely its own.
import { neighbours, ringPosition } from "./ring.ts";
import {
  MAX_INCARNATION,
  MAX_PACKET,
  NEVER,
  overheadBytes,
  rumourBytes,
  type Message,
  type MessageType,
  type Rumour,
} from "./wire.ts";

/** How many members each member sends heartbeats to, and so is watched by. */
export const FANOUT = 3;

/**
 * How long a member has to answer a probe before hearsay of its death is believed: half an
 * interval when the word comes from one of its watchers (the members that judge it, whose
 * notice is how a death travels), a whole interval from anyone else (a dead set on a
 * heartbeat: how a member that missed the notice catches up). So a key holder can hurry
 * the check only of the few members it watches itself.
 */
export function verifyMs(timing: Timing, fromWatcher = true): number {
  return fromWatcher ? timing.intervalMs / 2 : timing.intervalMs;
}
const MAX_RUMOURS = 255;

export interface Timing {
  /** Heartbeat period. */
  intervalMs: number;
  /** Silence after which a watched member is suspect and probed. */
  suspicionMs: number;
  /** Silence after which a watched member is declared dead. */
  timeoutMs: number;
}

export interface Outgoing {
  to: string;
  type: MessageType;
  subject?: string;
  age?: number;
  rumours: readonly Rumour[];
}

export type MembershipEvent =
  | { kind: "suspect" | "cleared"; name: string }
  | { kind: "dead"; name: string; incarnation: number; declared: boolean }
  | { kind: "alive"; name: string; incarnation: number }
  | { kind: "refuted"; incarnation: number }
  | { kind: "isolated" | "connected" | "ready" | "members" };

/** What one call produced. The same object is reused: read it before the next call. */
export interface Step {
  send: Outgoing[];
  events: MembershipEvent[];
}

interface Member {
  readonly name: string;
  readonly position: string;
  /** The highest incarnation we know of. */
  incarnation: number;
  /** Dead at `incarnation`. */
  dead: boolean;
  /** When an authenticated packet of a live incarnation last came from it. */
  heardAt: number;
  /** The latest sign of life: heard, vouched for by another watcher, or first watched. */
  evidenceAt: number;
  /** Watched by us, and since when. */
  watched: boolean;
  watchedSince: number;
  suspect: boolean;
  /** While suspect: when to probe it and ask its watchers again. */
  probeAt: number;
  /** When we last corrected what it believes; one correction per interval at most. */
  correctedAt: number;
  /** Told it is dead (or alive while dead here): probed, and believed dead unless it answers by then. */
  verifyUntil: number;
  /** The incarnation the rumour under verification named. */
  verifyIncarnation: number;
  /** When we last probed it to check a rumour; one check per interval at most. */
  checkedAt: number;
}

const NO_RUMOURS: readonly Rumour[] = [];
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export class Membership {
  readonly self: string;
  #incarnation: number;
  #timing: Timing;
  readonly #startedAt: number;
  readonly #me: Member;
  /** name -> member, this node included. */
  readonly #members = new Map<string, Member>();
  /** Every member, in ring order. */
  #ring: Member[] = [];
  /** The members not dead, in ring order: the heartbeat ring. */
  #live: Member[] = [];
  /** Each live member's place in #live. */
  #liveIndex = new Map<Member, number>();
  /** The FANOUT live members after us: we send them heartbeats. */
  #targets: Member[] = [];
  /** The FANOUT live members before us: their silence is ours to judge. */
  #watched: Member[] = [];
  /** Dead members in ring order: the rumours every heartbeat carries. */
  #dead: Member[] = [];
  /** Where the next heartbeat's rumours start when the dead set does not fit one packet. */
  #deadCursor = 0;
  #nextHeartbeat: number;
  #isolated = false;
  /** Members whose death we were told of and are checking (verifyUntil set). */
  #verifying: Member[] = [];
  /** When we last told every member we are alive because one said we were dead. */
  #refutedAt = -Infinity;
  /** Members still to be told we are alive (after start, or when they join), in order. */
  #announce: Member[] = [];
  /** Heard from enough members within suspicionMs: our network works, so silence is theirs. */
  #hearing = true;
  #ready = false;
  #started = false;
  /** When tick() last ran; it runs at least every interval unless we are stalled. */
  #lastTick: number;
  /** Until then, after a stall, isolation is not judged: packets may still be queued. */
  #settleUntil = -Infinity;
  readonly #step: Step = { send: [], events: [] };

  constructor(options: {
    self: string;
    /** Greater than any incarnation this member had before: its start time in ms. */
    incarnation: number;
    timing: Timing;
    now: number;
    members?: readonly string[];
  }) {
    this.self = options.self;
    this.#incarnation = options.incarnation;
    this.#timing = checkTiming(options.timing);
    this.#startedAt = options.now;
    this.#nextHeartbeat = options.now;
    this.#lastTick = options.now;
    this.#me = this.#newMember(options.self, options.now);
    this.#me.incarnation = options.incarnation;
    this.#members.set(options.self, this.#me);
    this.setMembers(options.members ?? [], options.now);
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  get timing(): Timing {
    return this.#timing;
  }

  /**
   * The first step: tells every member we are alive at our incarnation, which undoes any
   * death they remember from our previous life. Members added later are told when added.
   */
  start(): Step {
    const step = this.#begin();
    this.#started = true;
    for (const member of this.#ring) if (member !== this.#me) this.#announce.push(member);
    this.#sendAnnouncements();
    return step;
  }

  /** Replaces the member list (with or without this node). New members are presumed alive. */
  setMembers(names: readonly string[], now: number): Step {
    const step = this.#begin();
    const wanted = new Set(names);
    wanted.add(this.self);
    let changed = false;
    for (const name of this.#members.keys()) {
      if (!wanted.has(name)) {
        this.#members.delete(name);
        changed = true;
      }
    }
    for (const name of wanted) {
      if (!this.#members.has(name)) {
        this.#members.set(name, this.#newMember(name, now));
        changed = true;
        if (this.#started) this.#announce.push(this.#members.get(name)!);
      }
    }
    if (this.#announce.length > 0) this.#sendAnnouncements();
    if (!changed) return step;
    this.#ring = [...this.#members.values()].sort((a, b) => byName(a.position, b.position));
    this.#reshape(now);
    step.events.push({ kind: "members" });
    return step;
  }

  setTiming(timing: Timing, now: number): void {
    this.#timing = checkTiming(timing);
    this.#nextHeartbeat = Math.min(
      this.#nextHeartbeat,
      (Math.floor(now / timing.intervalMs) + 1) * timing.intervalMs,
    );
  }

  /** Does whatever is due at `now`: heartbeats, suspicions, probes, declarations. */
  tick(now: number): Step {
    const step = this.#begin();
    this.#creditStall(now);
    const { intervalMs, suspicionMs, timeoutMs } = this.#timing;
    if (!this.#ready && now - this.#startedAt >= timeoutMs) {
      this.#ready = true;
      step.events.push({ kind: "ready" });
    }
    if (now >= this.#nextHeartbeat) {
      const rumours = this.#deadRumours();
      for (const target of this.#targets)
        step.send.push({ to: target.name, type: "heartbeat", rumours });
      // On multiples of the interval by the wall clock, the same instants on every node
      // (NTP keeps them within a millisecond or so): a member's heartbeats arrive together
      // and wake it once, not once each — on small VMs the wake-ups cost more than the
      // packets. After a stall this carries on from now rather than catching up in a burst.
      this.#nextHeartbeat = (Math.floor(now / intervalMs) + 1) * intervalMs;
    }
    if (this.#announce.length > 0) this.#sendAnnouncements();
    this.#updateConnectivity(now);
    let declared: Member[] | undefined;
    for (let rank = 0; rank < this.#watched.length; rank++) {
      const member = this.#watched[rank]!;
      const silence = now - member.evidenceAt;
      if (silence < suspicionMs) {
        if (member.suspect) this.#clear(member);
        continue;
      }
      if (silence >= timeoutMs + rank * intervalMs && this.#hearing) {
        member.dead = true;
        member.suspect = false;
        (declared ??= []).push(member);
        step.events.push({
          kind: "dead",
          name: member.name,
          incarnation: member.incarnation,
          declared: true,
        });
        continue;
      }
      if (!member.suspect) {
        member.suspect = true;
        member.probeAt = now;
        step.events.push({ kind: "suspect", name: member.name });
      }
      if (now >= member.probeAt) {
        member.probeAt = now + intervalMs;
        step.send.push({ to: member.name, type: "probe", rumours: NO_RUMOURS });
        for (const watcher of this.#watchersOf(member))
          step.send.push({
            to: watcher.name,
            type: "query",
            subject: member.name,
            rumours: NO_RUMOURS,
          });
      }
    }
    if (declared !== undefined) {
      this.#reshape(now);
      this.#broadcast("notice", declared);
    }
    if (this.#verifying.length > 0) this.#settleVerifications(now);
    return step;
  }

  /** Rumours of death checked and not answered become deaths here (and the member is told). */
  #settleVerifications(now: number): void {
    let reshape = false;
    const pending: Member[] = [];
    for (const member of this.#verifying) {
      // Answered (receive() ended the check), or still within its time to answer.
      if (member.verifyUntil === -Infinity) continue;
      if (now < member.verifyUntil) {
        pending.push(member);
        continue;
      }
      member.verifyUntil = -Infinity;
      // Gone from the list, dead already, or while we hear too few: the silence may be ours.
      if (this.#members.get(member.name) !== member || member.dead || !this.#hearing) continue;
      member.dead = true;
      member.suspect = false;
      if (member.verifyIncarnation > member.incarnation)
        member.incarnation = member.verifyIncarnation;
      reshape = true;
      this.#step.events.push({
        kind: "dead",
        name: member.name,
        incarnation: member.incarnation,
        declared: false,
      });
      // If it is alive after all, this makes it refute, and its refutation revives it here.
      member.correctedAt = now;
      this.#step.send.push({ to: member.name, type: "notice", rumours: [deadRumour(member)] });
    }
    this.#verifying = pending;
    if (reshape) this.#reshape(now);
  }

  /**
   * Probes `member` to check a rumour about it: at most once per interval, and once for
   * each rumour of death (a new one can start only when the last ended: answered, the
   * member was heard, and for suspicionMs the bearers are corrected instead).
   */
  #check(member: Member, now: number, dead: boolean, incarnation: number, waitMs = 0): void {
    let probe = now - member.checkedAt >= this.#timing.intervalMs;
    if (dead && member.verifyUntil === -Infinity) {
      member.verifyUntil = now + waitMs;
      member.verifyIncarnation = incarnation;
      this.#verifying.push(member);
      probe = true;
    } else if (dead) {
      // A watcher's word during a slower check (a dead set from anyone) hurries it.
      member.verifyUntil = Math.min(member.verifyUntil, now + waitMs);
    }
    if (!probe) return;
    member.checkedAt = now;
    this.#step.send.push({ to: member.name, type: "probe", rumours: NO_RUMOURS });
  }

  /** Takes in one authenticated, fresh packet from a known member. */
  receive(now: number, message: Message): Step {
    const step = this.#begin();
    const sender = this.#members.get(message.sender);
    if (sender === undefined || sender === this.#me) return step;
    let reshape = false;
    // Rumours we know to be out of date, to send back to the sender.
    let corrections: Rumour[] | undefined;
    // A fresh authenticated packet from the member itself: it is alive, whatever we heard.
    const diedIn = sender.incarnation;
    if (message.incarnation > sender.incarnation) sender.incarnation = message.incarnation;
    if (sender.dead) {
      sender.dead = false;
      reshape = true;
      step.events.push({ kind: "alive", name: sender.name, incarnation: sender.incarnation });
      // Still in the incarnation it died in, it may not know it was declared dead: told,
      // it refutes to every member. (A newer one has refuted, or restarted, already.)
      if (message.incarnation <= diedIn)
        corrections = [{ name: sender.name, incarnation: diedIn, dead: true }];
    }
    sender.heardAt = now;
    if (now > sender.evidenceAt) sender.evidenceAt = now;
    if (sender.suspect) this.#clear(sender);
    sender.verifyUntil = -Infinity;

    switch (message.type) {
      case "probe":
        step.send.push({ to: sender.name, type: "ack", rumours: NO_RUMOURS });
        break;
      case "query": {
        const subject = this.#members.get(message.subject ?? "");
        const age =
          subject === undefined || subject.dead || subject.heardAt === -Infinity
            ? NEVER
            : Math.min(NEVER - 1, Math.max(0, now - subject.heardAt));
        step.send.push({
          to: sender.name,
          type: "answer",
          subject: message.subject ?? "",
          age,
          rumours: NO_RUMOURS,
        });
        break;
      }
      case "answer": {
        const subject = this.#members.get(message.subject ?? "");
        const age = message.age ?? NEVER;
        if (subject !== undefined && subject !== this.#me && !subject.dead && age !== NEVER) {
          const heardAt = now - age;
          if (heardAt > subject.evidenceAt) subject.evidenceAt = heardAt;
          if (subject.suspect && now - subject.evidenceAt < this.#timing.suspicionMs)
            this.#clear(subject);
        }
        break;
      }
      default:
        break;
    }

    for (const rumour of message.rumours) {
      const member = this.#members.get(rumour.name);
      if (member === undefined) continue;
      if (member === this.#me) {
        if (!rumour.dead) continue;
        const current = rumour.incarnation >= this.#incarnation;
        if (current) this.#setIncarnation(Math.max(rumour.incarnation + 1, now));
        if (current && now - this.#refutedAt >= this.#timing.timeoutMs) {
          this.#refutedAt = now;
          step.events.push({ kind: "refuted", incarnation: this.#incarnation });
          this.#broadcast("alive", NO_RUMOURS);
        } else {
          (corrections ??= []).push(this.#me);
        }
        continue;
      }
      if (member === sender || rumour.dead === member.dead) continue;
      if (!rumour.dead) {
        // Alive by hearsay while dead here: only its own answer revives it.
        this.#check(member, now, false, rumour.incarnation);
      } else if (
        rumour.incarnation < member.incarnation ||
        now - member.heardAt < this.#timing.suspicionMs
      ) {
        // Stale, or we heard the member itself lately: the bearer is told it is alive (and
        // checks with it), so a member that wrongly took it for dead learns otherwise from
        // whomever it tells — not only from the member, which it no longer writes to.
        (corrections ??= []).push(member);
      } else {
        const fromWatcher = this.#watchersOf(member).includes(sender);
        this.#check(member, now, true, rumour.incarnation, verifyMs(this.#timing, fromWatcher));
      }
    }

    if (reshape) this.#reshape(now);
    if (corrections !== undefined && now - sender.correctedAt >= this.#timing.intervalMs) {
      sender.correctedAt = now;
      step.send.push({
        to: sender.name,
        type: "notice",
        rumours: this.#fit("notice", sender.name, corrections),
      });
    }
    return step;
  }

  /** When tick() next has something to do. */
  nextWakeup(): number {
    const { intervalMs, suspicionMs, timeoutMs } = this.#timing;
    let next = this.#nextHeartbeat;
    if (!this.#ready) next = Math.min(next, this.#startedAt + timeoutMs);
    for (const member of this.#verifying)
      if (member.verifyUntil !== -Infinity) next = Math.min(next, member.verifyUntil);
    for (let rank = 0; rank < this.#watched.length; rank++) {
      const member = this.#watched[rank]!;
      if (!member.suspect) {
        next = Math.min(next, member.evidenceAt + suspicionMs);
        continue;
      }
      next = Math.min(next, member.probeAt);
      // While we hear too few nothing is declared, and each heartbeat checks again.
      if (this.#hearing) next = Math.min(next, member.evidenceAt + timeoutMs + rank * intervalMs);
    }
    return next;
  }

  isAlive(name: string): boolean {
    const member = this.#members.get(name);
    return member !== undefined && !member.dead;
  }

  isolated(): boolean {
    return this.#isolated;
  }

  ready(): boolean {
    return this.#ready;
  }

  view(): { members: string[]; suspects: string[]; dead: string[] } {
    const members = [...this.#members.keys()].sort(byName);
    const suspects = this.#watched.filter((m) => m.suspect).map((m) => m.name);
    const dead = this.#dead.map((m) => m.name);
    return { members, suspects: suspects.sort(byName), dead: dead.sort(byName) };
  }

  /** The members we send heartbeats to. */
  targets(): string[] {
    return this.#targets.map((m) => m.name);
  }

  /** The members whose heartbeats we expect. */
  watched(): string[] {
    return this.#watched.map((m) => m.name);
  }

  #begin(): Step {
    this.#step.send.length = 0;
    this.#step.events.length = 0;
    return this.#step;
  }

  #newMember(name: string, now: number): Member {
    return {
      name,
      position: ringPosition(name),
      incarnation: 0,
      dead: false,
      heardAt: -Infinity,
      evidenceAt: now,
      watched: false,
      watchedSince: -Infinity,
      suspect: false,
      probeAt: now,
      correctedAt: -Infinity,
      verifyUntil: -Infinity,
      verifyIncarnation: 0,
      checkedAt: -Infinity,
    };
  }

  #setIncarnation(incarnation: number): void {
    this.#incarnation = Math.min(MAX_INCARNATION, incarnation);
    this.#me.incarnation = this.#incarnation;
  }

  #clear(member: Member): void {
    member.suspect = false;
    this.#step.events.push({ kind: "cleared", name: member.name });
  }

  /** Recomputes the ring after a member joined, left, died or came back. */
  #reshape(now: number): void {
    this.#live = this.#ring.filter((m) => !m.dead);
    this.#liveIndex = new Map(this.#live.map((m, i) => [m, i]));
    this.#dead = this.#ring.filter((m) => m.dead);
    const index = this.#live.indexOf(this.#me);
    this.#targets = neighbours(this.#live, index, FANOUT, 1);
    const watched = neighbours(this.#live, index, FANOUT, -1);
    for (const member of this.#watched) {
      if (watched.includes(member)) continue;
      member.watched = false;
      if (member.suspect && this.#members.get(member.name) === member && !member.dead)
        this.#clear(member);
      member.suspect = false;
    }
    for (const member of watched) {
      if (member.watched) continue;
      // It may only now be learning that we are its successor: judge it from now on.
      member.watched = true;
      member.watchedSince = now;
      if (member.evidenceAt < now) member.evidenceAt = now;
    }
    this.#watched = watched;
  }

  /** The other members that watch `member` (the live members just after it). */
  #watchersOf(member: Member): Member[] {
    const index = this.#liveIndex.get(member) ?? -1;
    if (index < 0) return [];
    return neighbours(this.#live, index, FANOUT, 1).filter((m) => m !== this.#me);
  }

  #broadcast(type: "alive" | "notice", rumours: readonly Rumour[]): void {
    for (const member of this.#ring)
      if (member !== this.#me) this.#step.send.push({ to: member.name, type, rumours });
  }

  /**
   * Tells the next members in line that we are alive: at most a tenth of the cluster (and
   * at least 16) per call, and so per interval. When every node starts at once (after a
   * power cut, or in the benchmark's few processes), N-1 packets each at the same instant
   * overflow socket buffers and starve CPUs; a second's spread costs nothing, since a
   * member that starts is presumed alive anyway — this only undoes a death remembered.
   */
  #sendAnnouncements(): void {
    const count = Math.max(16, Math.ceil(this.#ring.length / 10));
    const batch = this.#announce.splice(0, count);
    for (const member of batch)
      if (this.#members.get(member.name) === member)
        this.#step.send.push({ to: member.name, type: "alive", rumours: NO_RUMOURS });
  }

  /** As much of the dead set as one heartbeat holds, rotating through it when it is large. */
  #deadRumours(): readonly Rumour[] {
    const dead = this.#dead;
    if (dead.length === 0) return NO_RUMOURS;
    // One set for every target: fitted to the one with the longest name.
    let longest = "";
    for (const target of this.#targets)
      if (target.name.length > longest.length) longest = target.name;
    let budget = MAX_PACKET - overheadBytes(this.self, longest, "heartbeat");
    const rumours: Rumour[] = [];
    const start = this.#deadCursor % dead.length;
    for (let i = 0; i < dead.length && rumours.length < MAX_RUMOURS; i++) {
      const member = dead[(start + i) % dead.length]!;
      budget -= rumourBytes(member.name);
      if (budget < 0) break;
      rumours.push(member);
    }
    this.#deadCursor = (start + rumours.length) % dead.length;
    return rumours;
  }

  #fit(type: MessageType, to: string, rumours: readonly Rumour[]): readonly Rumour[] {
    let budget = MAX_PACKET - overheadBytes(this.self, to, type);
    let count = 0;
    for (const rumour of rumours) {
      budget -= rumourBytes(rumour.name);
      if (budget < 0 || count === MAX_RUMOURS) break;
      count++;
    }
    return count === rumours.length ? rumours : rumours.slice(0, count);
  }

  /**
   * tick() is due at least every interval (for the heartbeats), so a longer gap means we
   * did not run on time: the event loop was blocked, the process starved of CPU, or busy
   * with a backlog of packets (which keeps it awake, reading old news, while the ones not
   * yet read sit in the socket). That silence is ours, not the members': it is not counted
   * against them, and isolation is judged again only once the queue had time to drain.
   * Without this, one long garbage collection or a starved node declares the members it
   * watches dead, and the notices and refutations that follow load every node further.
   */
  #creditStall(now: number): void {
    const stall = now - this.#lastTick - this.#timing.intervalMs;
    if (now > this.#lastTick) this.#lastTick = now;
    if (stall <= 0) return;
    for (const member of this.#watched)
      member.evidenceAt = Math.min(now, member.evidenceAt + stall);
    this.#settleUntil = now + this.#timing.suspicionMs;
  }

  #updateConnectivity(now: number): void {
    if (now < this.#settleUntil) return;
    const { intervalMs, suspicionMs, timeoutMs } = this.#timing;
    // Declarations need members heard *lately*, not merely within timeoutMs: cut off at
    // time c, we stop hearing the members we watch at their last heartbeats before c, one
    // after the other, and the first of them reaches timeoutMs of silence before the
    // others do — a timeoutMs window would still count those others as heard.
    const hearing = this.#hears(now, suspicionMs);
    if (hearing && !this.#hearing) {
      // Our silence clocks ran on while we heard too few; give the members we watch two
      // heartbeats to be heard before judging them, or the first one back is declared dead.
      const floor = now - Math.max(0, timeoutMs - 2 * intervalMs);
      for (const member of this.#watched) if (member.evidenceAt < floor) member.evidenceAt = floor;
    }
    this.#hearing = hearing;
    const isolated = now - this.#startedAt >= timeoutMs && !this.#hears(now, timeoutMs);
    if (isolated === this.#isolated) return;
    this.#isolated = isolated;
    this.#step.events.push({ kind: isolated ? "isolated" : "connected" });
  }

  /** Whether we heard from at least half as many members as we watch within `windowMs`. */
  #hears(now: number, windowMs: number): boolean {
    // With one peer, its silence and our isolation look the same: it is declared dead, as
    // in any two-node cluster.
    if (this.#live.length - 1 < 2) return true;
    const since = now - windowMs;
    const expected = this.#watched.length;
    let heard = 0;
    for (const member of this.#watched)
      if (member.heardAt > since || member.watchedSince > since) heard++;
    if (heard * 2 >= expected) return true;
    // Answers and probes from other members prove our network works: more likely the
    // members we watch died together (their other watchers see it too). Only reached when
    // few were heard, so the common case stays O(FANOUT).
    for (const member of this.#ring) {
      if (member.watched || member === this.#me || !(member.heardAt > since)) continue;
      if (++heard * 2 >= expected) return true;
    }
    return false;
  }
}

/** "`member` is dead", at the incarnation we know. */
function deadRumour(member: Member): Rumour {
  return { name: member.name, incarnation: member.incarnation, dead: true };
}

function checkTiming(timing: Timing): Timing {
  const { intervalMs, suspicionMs, timeoutMs } = timing;
  if (!(intervalMs > 0 && intervalMs < suspicionMs && suspicionMs < timeoutMs))
    throw new RangeError(
      `detector timing must have 0 < intervalMs < suspicionMs < timeoutMs, got ${intervalMs}, ${suspicionMs}, ${timeoutMs}`,
    );
  return { intervalMs, suspicionMs, timeoutMs };
}
