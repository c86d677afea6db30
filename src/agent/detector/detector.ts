// The failure detector as the agent uses it: the membership state machine (membership.ts)
// on one UDP socket and one timer. Here packets are checked — authentic, well formed, for
// this member, from the member they name at that member's address, sent lately and not
// seen before — and counted when not.
import { canonicalAddress } from "../../ip.ts";
import { realClock, type Clock, type TimerHandle } from "../../clock.ts";
import type { Logger } from "../../log.ts";
import { Keyring } from "./keyring.ts";
import {
  Membership,
  type MembershipEvent,
  type Outgoing,
  type Step,
  type Timing,
} from "./membership.ts";
import { ReplayWindow } from "./replay.ts";
import { openUdp, type UdpEndpoint } from "./udp.ts";
import { decode, encode, MAX_SEQ } from "./wire.ts";

export type { Timing } from "./membership.ts";

export interface DetectorMember {
  name: string;
  /** IPv4 or IPv6 literal the member's heartbeats come from and go to. */
  address: string;
  /** Defaults to this node's detector port (the same on every node). */
  port?: number;
}

export interface DetectorStats {
  packetsSent: number;
  packetsReceived: number;
  dropped: {
    unauthenticated: number;
    replayed: number;
    /** Sent longer ago (or further ahead) than the replay window allows: clocks apart, or a replay. */
    stale: number;
    malformed: number;
    unknownSender: number;
    /** Authentic, but for another member: captured on its way there and sent here. */
    misdirected: number;
  };
  /** Members this node has seen die (declared here or told by a peer). */
  deaths: number;
  /** Times this node was declared dead while alive and said so. */
  refutations: number;
}

export interface DetectorOptions {
  /** This node's name, as in `members`. */
  self: string;
  bindAddress: string;
  port: number;
  /** Shared by every agent (from a Secret). */
  key: Buffer;
  settings: Timing;
  log: Logger;
  clock?: Clock;
  members?: DetectorMember[];
  /** How long the previous key stays accepted after setKey (default KEY_GRACE_MS, 10 s). */
  keyGraceMs?: number;
}

interface Peer {
  /** As given to setMembers, so that an unchanged list costs no parsing. */
  given: string;
  /** Canonical form (canonicalAddress). */
  address: string;
  port: number;
  replay: ReplayWindow;
}

type DropReason = keyof DetectorStats["dropped"];

/** How often a kind of dropped packet is logged; the counters see every one. */
const DROP_LOG_INTERVAL_MS = 60_000;

const CHANGES = new Set<MembershipEvent["kind"]>([
  "suspect",
  "cleared",
  "dead",
  "alive",
  "isolated",
  "connected",
  "ready",
  "members",
]);

export class FailureDetector {
  readonly #self: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #endpoint: UdpEndpoint;
  readonly #keys: Keyring;
  readonly #membership: Membership;
  /** The port members listen on unless they say otherwise. */
  readonly #defaultPort: number;
  /** name -> where its packets come from, and which it has sent; this node excluded. */
  #peers = new Map<string, Peer>();
  /** name -> the unparsable address last logged for it, so that it is logged once. */
  readonly #unusable = new Map<string, string>();
  #seq = 0;
  #timer: TimerHandle | undefined;
  #timerDue = Infinity;
  #stopped = false;
  readonly #listeners = new Set<() => void>();
  readonly #stats: DetectorStats = {
    packetsSent: 0,
    packetsReceived: 0,
    dropped: {
      unauthenticated: 0,
      replayed: 0,
      stale: 0,
      malformed: 0,
      unknownSender: 0,
      misdirected: 0,
    },
    deaths: 0,
    refutations: 0,
  };
  readonly #dropLoggedAt: Record<DropReason, number> = {
    unauthenticated: -Infinity,
    replayed: -Infinity,
    stale: -Infinity,
    malformed: -Infinity,
    unknownSender: -Infinity,
    misdirected: -Infinity,
  };

  static async start(options: DetectorOptions): Promise<FailureDetector> {
    // Packets that arrive before the detector exists are dropped, as before the bind.
    const inbox: { detector?: FailureDetector } = {};
    const endpoint = await openUdp({
      address: options.bindAddress,
      port: options.port,
      onMessage: (packet, address, port) => inbox.detector?.receivePacket(packet, address, port),
      onError: (error) => options.log.warn({ err: error }, "failure detector socket error"),
    });
    const detector = new FailureDetector(options, endpoint);
    inbox.detector = detector;
    detector.#run(detector.#membership.start());
    if (options.members !== undefined) detector.setMembers(options.members);
    detector.#schedule();
    options.log.info(
      {
        address: options.bindAddress,
        port: endpoint.port,
        incarnation: detector.#membership.incarnation,
      },
      "failure detector started",
    );
    return detector;
  }

  private constructor(options: DetectorOptions, endpoint: UdpEndpoint) {
    this.#self = options.self;
    this.#clock = options.clock ?? realClock;
    this.#log = options.log;
    this.#endpoint = endpoint;
    this.#defaultPort = options.port === 0 ? endpoint.port : options.port;
    const now = this.#clock.now();
    this.#keys = new Keyring(options.key, options.keyGraceMs);
    // The start time makes each run of the agent newer than the last one, which is what
    // lets a restarted node override the death its peers remember.
    this.#membership = new Membership({
      self: options.self,
      incarnation: now,
      timing: options.settings,
      now,
    });
  }

  /** The bound UDP port. */
  get port(): number {
    return this.#endpoint.port;
  }

  setMembers(members: DetectorMember[]): void {
    const peers = new Map<string, Peer>();
    for (const member of members) {
      if (member.name === this.#self) continue;
      const known = this.#peers.get(member.name);
      const address =
        known?.given === member.address ? known.address : canonicalAddress(member.address);
      if (address === undefined) {
        if (this.#unusable.get(member.name) === member.address) continue;
        this.#unusable.set(member.name, member.address);
        this.#log.warn(
          { member: member.name, address: member.address },
          "member has no usable address; left out of the failure detector",
        );
        continue;
      }
      peers.set(member.name, {
        given: member.address,
        address,
        port: member.port ?? this.#defaultPort,
        replay: known?.replay ?? new ReplayWindow(),
      });
    }
    this.#peers = peers;
    this.#run(this.#membership.setMembers([...peers.keys()], this.#clock.now()));
    this.#schedule();
  }

  setKey(key: Buffer): void {
    if (this.#keys.set(key, this.#clock.now())) this.#log.info("failure detector key rotated");
  }

  setSettings(settings: Timing): void {
    const current = this.#membership.timing;
    if (
      settings.intervalMs === current.intervalMs &&
      settings.suspicionMs === current.suspicionMs &&
      settings.timeoutMs === current.timeoutMs
    )
      return;
    this.#membership.setTiming(settings, this.#clock.now());
    this.#log.info({ ...this.#membership.timing }, "failure detector timing changed");
    this.#schedule(true);
  }

  isAlive(name: string): boolean {
    return name === this.#self || this.#membership.isAlive(name);
  }

  /** The detector has run for a timeout, so a silent member would have been declared. */
  ready(): boolean {
    return this.#membership.ready();
  }

  /** Hearing from too few members to judge any (see membership.ts). */
  isolated(): boolean {
    return this.#membership.isolated();
  }

  view(): { members: string[]; suspects: string[]; dead: string[] } {
    return this.#membership.view();
  }

  /** Called after any change of view, isolation or readiness; returns the unsubscriber. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stats(): DetectorStats {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
    await this.#endpoint.close();
  }

  private receivePacket(packet: Buffer, address: string, port: number): void {
    if (this.#stopped) return;
    this.#stats.packetsReceived++;
    const now = this.#clock.now();
    const decoded = decode(packet, this.#keys.accepted(now));
    if (!decoded.ok) return this.#drop(decoded.reason, address, now);
    const message = decoded.message;
    if (message.receiver !== this.#self) return this.#drop("misdirected", address, now);
    const peer = this.#peers.get(message.sender);
    if (
      peer === undefined ||
      peer.port !== port ||
      // The kernel writes addresses canonically already; the parse is for the odd one out.
      (peer.address !== address && peer.address !== canonicalAddress(address))
    )
      return this.#drop("unknownSender", address, now);
    const verdict = peer.replay.check(message.sentAt, message.seq, now);
    if (verdict !== "fresh") return this.#drop(verdict, address, now);
    this.#run(this.#membership.receive(now, message));
    this.#schedule();
  }

  #drop(reason: DropReason, address: string, now: number): void {
    const count = ++this.#stats.dropped[reason];
    if (now - this.#dropLoggedAt[reason] < DROP_LOG_INTERVAL_MS) return;
    this.#dropLoggedAt[reason] = now;
    this.#log.warn(
      { reason, from: address, dropped: count },
      reason === "unauthenticated"
        ? "dropping heartbeats signed with another key"
        : `dropping ${reason} heartbeats`,
    );
  }

  #run(step: Step): void {
    for (const outgoing of step.send) this.#send(outgoing);
    let changed = false;
    for (const event of step.events) {
      this.#note(event);
      if (CHANGES.has(event.kind)) changed = true;
    }
    if (!changed) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        this.#log.error({ err: error }, "failure detector listener threw");
      }
    }
  }

  #send(outgoing: Outgoing): void {
    const peer = this.#peers.get(outgoing.to);
    if (peer === undefined) return;
    const now = this.#clock.now();
    this.#seq = this.#seq === MAX_SEQ ? 0 : this.#seq + 1;
    const packet = encode(
      {
        type: outgoing.type,
        sender: this.#self,
        receiver: outgoing.to,
        incarnation: this.#membership.incarnation,
        sentAt: Math.floor(now),
        seq: this.#seq,
        subject: outgoing.subject,
        age: outgoing.age,
        rumours: outgoing.rumours,
      },
      this.#keys.signing(now),
    );
    this.#endpoint.send(packet, peer.address, peer.port);
    this.#stats.packetsSent++;
  }

  #note(event: MembershipEvent): void {
    const log = this.#log;
    switch (event.kind) {
      case "dead":
        this.#stats.deaths++;
        if (event.declared)
          log.warn({ member: event.name, incarnation: event.incarnation }, "member silent: dead");
        else log.info({ member: event.name, incarnation: event.incarnation }, "member dead");
        break;
      case "alive":
        log.info({ member: event.name, incarnation: event.incarnation }, "member alive again");
        break;
      case "refuted":
        this.#stats.refutations++;
        log.warn({ incarnation: event.incarnation }, "declared dead by a peer; refuted");
        break;
      case "isolated":
        log.warn("hearing from too few members: isolated, declaring no one dead");
        break;
      case "connected":
        log.info("hearing from members again: no longer isolated");
        break;
      case "ready":
        log.info("failure detector ready");
        break;
      case "suspect":
        log.debug({ member: event.name }, "member suspect");
        break;
      case "cleared":
        log.debug({ member: event.name }, "member no longer suspect");
        break;
      case "members":
        break;
    }
  }

  /** Keeps the one timer at the membership's next deadline. */
  #schedule(force = false): void {
    if (this.#stopped) return;
    const now = this.#clock.now();
    // A deadline already past runs on the next turn, never in a tight loop.
    const due = Math.max(this.#membership.nextWakeup(), now + 1);
    if (this.#timer !== undefined) {
      if (!force && this.#timerDue <= due) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      // Timers run before the event loop reads sockets: after a stall, the heartbeats that
      // arrived meanwhile are read first (setImmediate runs after the poll), so that their
      // senders are not judged on silence that was ours.
      setImmediate(() => {
        if (this.#stopped) return;
        this.#run(this.#membership.tick(this.#clock.now()));
        this.#schedule();
      });
    }, due - now);
  }
}
