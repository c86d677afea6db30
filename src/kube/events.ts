// Kubernetes Events about the objects Herald manages, written the way client-go's
// EventRecorder and EventCorrelator write them: a repeat of the same event within ten
// minutes bumps the count of the Event already written instead of creating another, and a
// per-object token bucket drops floods (a Service flapping every second must not fill
// etcd). Recording never blocks the caller and never throws into it.
import type { CoreV1Event } from "@kubernetes/client-node";
import type { Clock } from "../clock.ts";
import { TokenBucket } from "./ratelimit.ts";
import type { Logger } from "../log.ts";

export type EventType = "Normal" | "Warning";

/** The object an event is about. */
export interface InvolvedObject {
  apiVersion?: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
}

/** Thrown by EventSink.patch when the Event is gone (expired by its TTL, or deleted). */
export class EventNotFound extends Error {
  override readonly name = "EventNotFound";
}

export interface EventSink {
  create(event: CoreV1Event): Promise<unknown>;
  /** A merge patch; fails with EventNotFound if the Event does not exist. */
  patch(namespace: string, name: string, patch: object): Promise<unknown>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  clock: Clock;
  /** Becomes reportingComponent `herald.dev/<component>`, e.g. "controller". */
  component: string;
  /** This process, e.g. the pod name. */
  instance: string;
  log?: Pick<Logger, "warn" | "debug">;
  /** Repeats closer together than this are counted on one Event. Default 10 min. */
  windowMs?: number;
  /** Events per object allowed at once. Default 25 (client-go). */
  burst?: number;
  /** Refill of that allowance, events per second. Default one per 5 min (client-go). */
  qps?: number;
  /** Objects and distinct events remembered. Default 4096 (client-go's LRU size). */
  maxKeys?: number;
  /** Writes waiting for the API server before new ones are dropped. Default 1000. */
  maxPending?: number;
}

interface Series {
  namespace: string;
  name: string;
  count: number;
  first: number;
  last: number;
  object: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
}

/** A MicroTime as the API server wants it: six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

function touch<K, V>(lru: Map<K, V>, key: K, value: V, max: number): void {
  lru.delete(key);
  lru.set(key, value);
  if (lru.size > max) lru.delete(lru.keys().next().value as K);
}

export class EventRecorder {
  readonly #sink: EventSink;
  readonly #clock: Clock;
  readonly #controller: string;
  readonly #instance: string;
  readonly #log: Pick<Logger, "warn" | "debug"> | undefined;
  readonly #windowMs: number;
  readonly #burst: number;
  readonly #qps: number;
  readonly #maxKeys: number;
  readonly #maxPending: number;

  // object -> its spam-filter bucket (least recently used first)
  readonly #buckets = new Map<string, TokenBucket>();
  // object + type + reason + message -> the Event counting its repeats
  readonly #series = new Map<string, Series>();
  // writes not yet sent; one is in flight at a time so a patch never overtakes its create
  readonly #pending: (() => Promise<void>)[] = [];
  #writing: Promise<void> | undefined;
  #seq = 0;
  #dropped = 0;
  #failing = false;

  constructor(opts: EventRecorderOptions) {
    this.#sink = opts.sink;
    this.#clock = opts.clock;
    this.#controller = `herald.dev/${opts.component}`;
    this.#instance = opts.instance;
    this.#log = opts.log;
    this.#windowMs = opts.windowMs ?? 600_000;
    this.#burst = opts.burst ?? 25;
    this.#qps = opts.qps ?? 1 / 300;
    this.#maxKeys = opts.maxKeys ?? 4096;
    this.#maxPending = opts.maxPending ?? 1000;
  }

  /** Events dropped by the spam filter or a full write queue. */
  get dropped(): number {
    return this.#dropped;
  }

  normal(object: InvolvedObject, reason: string, message: string): void {
    this.event(object, "Normal", reason, message);
  }

  warning(object: InvolvedObject, reason: string, message: string): void {
    this.event(object, "Warning", reason, message);
  }

  event(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    try {
      this.#record(object, type, reason, message);
    } catch (err) {
      this.#log?.warn({ err, reason }, "could not record event");
    }
  }

  /** Resolves once every write recorded so far has been attempted. */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  #record(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    const now = this.#clock.now();
    // NUL cannot occur in names, kinds or uids, and only the message (last) may hold one,
    // so these keys are unambiguous; they are built per event, for every Service of a burst.
    const objectKey = `${object.apiVersion ?? ""}\0${object.kind}\0${object.namespace ?? ""}\0${object.name}\0${object.uid ?? ""}`;
    let bucket = this.#buckets.get(objectKey);
    if (bucket === undefined) bucket = new TokenBucket(this.#qps, this.#burst, this.#clock);
    touch(this.#buckets, objectKey, bucket, this.#maxKeys);
    if (!bucket.tryTake()) {
      this.#drop({ object: object.name, reason }, "event dropped by the per-object rate limit");
      return;
    }

    const key = `${objectKey}\0${type}\0${reason}\0${message}`;
    const seen = this.#series.get(key);
    if (seen !== undefined && now - seen.last <= this.#windowMs) {
      seen.count++;
      seen.last = now;
      touch(this.#series, key, seen, this.#maxKeys);
      const snapshot = { ...seen };
      this.#enqueue(() => this.#patch(snapshot));
      return;
    }
    const series: Series = {
      // Kubernetes requires a namespace for core/v1 Events; cluster-scoped objects' go to
      // "default", as kubectl and client-go expect.
      namespace: object.namespace ?? "default",
      name: this.#name(object.name, now),
      count: 1,
      first: now,
      last: now,
      object: { ...object },
      type,
      reason,
      message,
    };
    touch(this.#series, key, series, this.#maxKeys);
    const snapshot = { ...series };
    this.#enqueue(() => this.#create(snapshot));
  }

  // client-go names Events <object>.<unix nanoseconds in hex>; the sequence number keeps
  // two events in the same millisecond apart.
  #name(objectName: string, now: number): string {
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    return `${objectName}.${nanos.toString(16)}`;
  }

  #event(s: Series): CoreV1Event {
    const o = s.object;
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: s.name, namespace: s.namespace },
      involvedObject: {
        apiVersion: o.apiVersion,
        kind: o.kind,
        name: o.name,
        namespace: o.namespace,
        uid: o.uid,
        resourceVersion: o.resourceVersion,
      },
      type: s.type,
      reason: s.reason,
      message: s.message,
      count: s.count,
      firstTimestamp: new Date(s.first),
      lastTimestamp: new Date(s.last),
      source: { component: this.#controller },
      reportingComponent: this.#controller,
      reportingInstance: this.#instance,
      ...(s.count > 1
        ? { series: { count: s.count, lastObservedTime: microTime(s.last) as never } }
        : {}),
    };
  }

  async #create(s: Series): Promise<void> {
    await this.#sink.create(this.#event(s));
  }

  async #patch(s: Series): Promise<void> {
    const patch = {
      count: s.count,
      lastTimestamp: new Date(s.last).toISOString(),
      series: { count: s.count, lastObservedTime: microTime(s.last) },
    };
    try {
      await this.#sink.patch(s.namespace, s.name, patch);
    } catch (err) {
      // The Event expired (the API server keeps them an hour) or its create failed: write
      // it anew, keeping the count.
      if (!(err instanceof EventNotFound)) throw err;
      await this.#create(s);
    }
  }

  #enqueue(write: () => Promise<void>): void {
    if (this.#pending.length >= this.#maxPending) {
      this.#drop({}, "event dropped: too many waiting to be written");
      return;
    }
    this.#pending.push(write);
    this.#writing ??= this.#drain();
  }

  async #drain(): Promise<void> {
    for (let write = this.#pending.shift(); write !== undefined; write = this.#pending.shift()) {
      try {
        await write();
        this.#failing = false;
      } catch (err) {
        // Best effort, like client-go: an event that cannot be written is logged and lost.
        if (!this.#failing) this.#log?.warn({ err }, "could not write event");
        this.#failing = true;
      }
    }
    this.#writing = undefined;
  }

  #drop(fields: object, msg: string): void {
    this.#dropped++;
    this.#log?.debug(fields, msg);
  }
}
