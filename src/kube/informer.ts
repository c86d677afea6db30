// A supervised informer: a local cache of one kind of object kept in step with the API
// server by list + watch, that never gives up. client-node's ListWatch stops for good on
// any error but 410 and cannot be told to relist, so this one drives a watch (watch.ts)
// and a list call itself:
// - 410 Gone (history compacted) → relist, then watch from the new version;
// - any other failure → retry with exponential backoff (keeping the cache meanwhile);
// - a watch that ends → watch again from the last version seen;
// - a watch silent for too long (not even a bookmark) → relist: it may have lost events;
// - a periodic relist compares the server with the cache and repairs any difference.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "../log.ts";
import { realClock, type Clock, type TimerHandle } from "../clock.ts";
import { watch } from "./watch.ts";

export interface ListPage<T> {
  items: T[];
  metadata?: { resourceVersion?: string; _continue?: string };
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  _continue?: string;
}

export interface InformerOptions<T> {
  config: KubeConfig;
  /** The collection path watches go to, e.g. "/api/v1/services". */
  path: string;
  /** The same collection's list call, e.g. (o) => core.listServiceForAllNamespaces(o). */
  list: (options: ListOptions) => Promise<ListPage<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page (default 500). */
  pageSize?: number;
  /** How often to relist and repair the cache (default 10 min; 0 = never). */
  relistEveryMs?: number;
  /** A watch with no event or bookmark for this long is treated as lost (default 90 s). */
  silenceLimitMs?: number;
  /** Backoff after failures: first delay and cap (default 500 ms, 30 s). */
  backoffMs?: { initial: number; max: number };
  clock?: Clock;
  log?: Logger;
}

export type InformerHandler<T> = (object: T, old: T | undefined) => void;

interface WatchEventObject {
  metadata?: { resourceVersion?: string };
  code?: number;
}

/**
 * What an informer needs of the objects it caches: their name, namespace and version.
 * Typed views of a kind (ServiceObject, NodeObject…) fit without casts.
 */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

export class Informer<T extends CachedObject> {
  private readonly options: InformerOptions<T>;
  private readonly clock: Clock;
  /** "namespace/name" -> object */
  private readonly cache = new Map<string, T>();
  private readonly handlers = {
    add: [] as InformerHandler<T>[],
    update: [] as InformerHandler<T>[],
    delete: [] as InformerHandler<T>[],
  };
  private resourceVersion = "";
  private running = false;
  private failures = 0;
  private watchAbort: AbortController | undefined;
  /** Set when the watchdog or the relist timer ended the watch, not the server. */
  private endedByUs = false;
  private wake: (() => void) | undefined;
  private timers: TimerHandle[] = [];
  private lastHeard = 0;
  private lastList = 0;
  private markSynced!: () => void;
  /** Lists started so far; a relist() caller waits for one started after its call. */
  private listsStarted = 0;
  private relistWaiters: { after: number; resolve: () => void }[] = [];
  private hasSynced = false;
  /** Resolves once the first list has filled the cache. */
  readonly synced: Promise<void>;
  /** Counts, for tests and metrics. */
  readonly counters = { lists: 0, watches: 0, failures: 0, silences: 0 };

  constructor(options: InformerOptions<T>) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
  }

  on(event: "add" | "update" | "delete", handler: InformerHandler<T>): void {
    this.handlers[event].push(handler);
  }

  isSynced(): boolean {
    return this.hasSynced;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(`${namespace ?? ""}/${name}`);
  }

  /**
   * Lists afresh now and resolves once the cache holds that list: for a caller that needs
   * a view no older than this moment (a new leader restoring state).
   */
  relist(): Promise<void> {
    const done = new Promise<void>((resolve) =>
      this.relistWaiters.push({ after: this.listsStarted, resolve }),
    );
    this.resourceVersion = "";
    if (this.watchAbort) {
      this.endedByUs = true;
      this.watchAbort.abort();
    }
    this.wake?.();
    return done;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
    this.scheduleChecks();
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers = [];
    this.watchAbort?.abort();
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        if (
          this.resourceVersion === "" ||
          this.relistWaiters.length > 0 ||
          this.clock.now() - this.lastList >= this.relistEvery()
        ) {
          await this.listAll();
          // A relist() that came during that list wants one that started after it.
          if (this.relistWaiters.length > 0) continue;
        }
        const started = this.clock.now();
        this.endedByUs = false;
        const ended = await this.watchOnce();
        if (ended === "gone") {
          this.resourceVersion = "";
          continue;
        }
        if (ended instanceof Error) throw ended;
        // A watch the server closed at once, again and again, must not spin.
        if (!this.endedByUs && this.clock.now() - started < 1000)
          await this.pause(this.nextBackoff());
        else this.failures = 0;
      } catch (error) {
        if (!this.running) break;
        this.counters.failures++;
        const delay = this.nextBackoff();
        this.options.log?.warn(
          { path: this.options.path, err: describe(error), retryInMs: delay },
          "informer failed; retrying",
        );
        await this.pause(delay);
      }
    }
  }

  private relistEvery(): number {
    return this.options.relistEveryMs === 0 ? Infinity : (this.options.relistEveryMs ?? 600_000);
  }

  private nextBackoff(): number {
    const { initial, max } = this.options.backoffMs ?? { initial: 500, max: 30_000 };
    const delay = Math.min(max, initial * 2 ** this.failures);
    this.failures++;
    return delay;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.clock.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Lists every page and makes the cache equal to it, reporting each difference. */
  private async listAll(): Promise<void> {
    const started = ++this.listsStarted;
    const items: T[] = [];
    let token: string | undefined;
    let version: string;
    do {
      const page = await this.options.list({
        labelSelector: this.options.labelSelector,
        fieldSelector: this.options.fieldSelector,
        limit: this.options.pageSize ?? 500,
        _continue: token,
      });
      items.push(...page.items);
      token = page.metadata?._continue || undefined;
      version = page.metadata?.resourceVersion ?? "";
    } while (token);
    this.counters.lists++;
    this.lastList = this.clock.now();
    const seen = new Set<string>();
    for (const item of items) {
      const key = keyOf(item);
      seen.add(key);
      this.upsert(key, item);
    }
    for (const [key, object] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit("delete", object, undefined);
      }
    }
    this.resourceVersion = version;
    const satisfied = this.relistWaiters.filter((waiter) => waiter.after < started);
    this.relistWaiters = this.relistWaiters.filter((waiter) => waiter.after >= started);
    for (const waiter of satisfied) waiter.resolve();
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.markSynced();
    }
  }

  /** Watches from the current version until the watch ends; says how it ended. */
  private async watchOnce(): Promise<"ended" | "gone" | Error> {
    this.counters.watches++;
    this.lastHeard = this.clock.now();
    let gone = false;
    const query: Record<string, string> = {
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: "true",
    };
    if (this.options.labelSelector) query.labelSelector = this.options.labelSelector;
    if (this.options.fieldSelector) query.fieldSelector = this.options.fieldSelector;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: "ended" | "gone" | Error) => {
        if (settled) return;
        settled = true;
        this.watchAbort = undefined;
        resolve(result);
      };
      watch(
        this.options.config,
        this.options.path,
        query,
        (type, event) => {
          const object = event as T & WatchEventObject;
          this.lastHeard = this.clock.now();
          if (type === "ERROR") {
            if (object.code === 410) gone = true;
            return;
          }
          if (type === "ADDED" || type === "MODIFIED") this.upsert(keyOf(object), object);
          else if (type === "DELETED") {
            const key = keyOf(object);
            const old = this.cache.get(key);
            this.cache.delete(key);
            this.emit("delete", object, old);
          }
          const version = object.metadata?.resourceVersion;
          if (version) this.resourceVersion = version;
        },
        (error: unknown) => {
          const code = (error as { statusCode?: number; code?: number } | null)?.statusCode;
          if (gone || code === 410) finish("gone");
          else if (
            error &&
            (error as Error).name !== "TimeoutError" &&
            (error as Error).name !== "AbortError"
          ) {
            finish(error instanceof Error ? error : new Error(String(error)));
          } else finish("ended");
        },
      )
        .then((controller) => {
          this.watchAbort = controller;
          // stop() or relist() may have come while the watch was still connecting.
          if (this.relistWaiters.length > 0) this.endedByUs = true;
          if (!this.running || this.relistWaiters.length > 0) controller.abort();
        })
        .catch((error: unknown) =>
          finish(error instanceof Error ? error : new Error(String(error))),
        );
    });
  }

  private upsert(key: string, object: T): void {
    const old = this.cache.get(key);
    if (old && old.metadata?.resourceVersion === object.metadata?.resourceVersion) return;
    this.cache.set(key, object);
    this.emit(old ? "update" : "add", object, old);
  }

  private emit(event: "add" | "update" | "delete", object: T, old: T | undefined): void {
    for (const handler of this.handlers[event]) {
      try {
        handler(object, old);
      } catch (error) {
        this.options.log?.error({ err: describe(error), event }, "informer handler threw");
      }
    }
  }

  /** The watchdog and the periodic relist both work by ending the current watch. */
  private scheduleChecks(): void {
    const silence = this.options.silenceLimitMs ?? 90_000;
    const check = () => {
      if (!this.running) return;
      const quiet = this.clock.now() - this.lastHeard;
      if (this.watchAbort && quiet >= silence) {
        this.counters.silences++;
        this.options.log?.warn(
          { path: this.options.path, quietMs: quiet },
          "watch silent; relisting",
        );
        this.resourceVersion = "";
        this.endedByUs = true;
        this.watchAbort.abort();
      } else if (this.watchAbort && this.clock.now() - this.lastList >= this.relistEvery()) {
        this.endedByUs = true;
        this.watchAbort.abort();
      }
      this.timers = [this.clock.setTimeout(check, Math.min(silence, this.relistEvery()) / 4)];
    };
    this.timers = [this.clock.setTimeout(check, Math.min(silence, this.relistEvery()) / 4)];
  }
}

function keyOf(object: CachedObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
