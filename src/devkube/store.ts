// devkube's memory: every object of every resource, one resourceVersion counter for all
// (as etcd has), and the recent history of changes that watches replay from a version.
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: Record<string, unknown> & {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
};

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Change {
  readonly rv: number;
  readonly type: ChangeType;
  readonly resource: string;
  readonly object: KubeObject;
  /** The object before this change, for watches whose selector it may have left. */
  readonly previous: KubeObject | undefined;
}

export type ChangeListener = (change: Change) => void;

/**
 * An object's JSON, computed once: stored objects are never changed in place (a write
 * stores a new object), so every watch and list that sends one can share the text.
 */
const jsonCache = new WeakMap<KubeObject, string>();
export function objectJson(object: KubeObject): string {
  let text = jsonCache.get(object);
  if (text === undefined) jsonCache.set(object, (text = JSON.stringify(object)));
  return text;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}

export class Store {
  private rv = 0;
  /** resource key -> "namespace/name" -> object */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  /**
   * resource key -> its "namespace/name" keys in order, until a key comes or goes: a list
   * of 10k objects in pages of 500 would otherwise sort them all for every page.
   */
  private readonly sortedKeys = new Map<string, string[]>();
  /** Changes after `compactedAt`, oldest first. */
  private history: Change[] = [];
  /** Watches from a version below this one get 410 Gone. */
  private compactedAt = 0;
  /** resource key -> listeners */
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private readonly historyLimit: number;

  constructor(historyLimit = 50_000) {
    this.historyLimit = historyLimit;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of a resource (one namespace, or all), sorted by namespace and name. */
  list(resource: string, namespace?: string): KubeObject[] {
    return [...this.scan(resource, namespace)];
  }

  /**
   * Objects of a resource (one namespace, or all) in the order of list(), starting after
   * the key `after` ("namespace/name"; "" for the first). Objects added while scanning are
   * not seen, removed ones may be: a caller that writes as it goes takes list().
   */
  *scan(resource: string, namespace?: string, after = ""): Generator<KubeObject> {
    const byKey = this.objects.get(resource);
    if (!byKey) return;
    let keys = this.sortedKeys.get(resource);
    if (!keys) this.sortedKeys.set(resource, (keys = [...byKey.keys()].sort()));
    const prefix = namespace === undefined ? "" : `${namespace}/`;
    // Keys sharing a prefix are contiguous: start at the first one past both bounds.
    const start = Math.max(
      firstIndex(keys, (key) => key >= prefix),
      firstIndex(keys, (key) => key > after),
    );
    for (let i = start; i < keys.length && keys[i]!.startsWith(prefix); i++) {
      const object = byKey.get(keys[i]!);
      if (object) yield object;
    }
  }

  count(resource: string): number {
    return this.objects.get(resource)?.size ?? 0;
  }

  /** Stores a new version of an object under the next resourceVersion. */
  write(resource: string, object: KubeObject, type: "ADDED" | "MODIFIED"): KubeObject {
    const rv = ++this.rv;
    const stored: KubeObject = {
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(rv) },
    };
    let byKey = this.objects.get(resource);
    if (!byKey) this.objects.set(resource, (byKey = new Map()));
    const key = objectKey(stored.metadata.namespace, stored.metadata.name);
    const previous = byKey.get(key);
    byKey.set(key, stored);
    if (!previous) this.sortedKeys.delete(resource);
    this.record({ rv, type, resource, object: stored, previous });
    return stored;
  }

  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const byKey = this.objects.get(resource);
    const key = objectKey(namespace, name);
    const previous = byKey?.get(key);
    if (!byKey || !previous) return undefined;
    byKey.delete(key);
    this.sortedKeys.delete(resource);
    const rv = ++this.rv;
    const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } };
    this.record({ rv, type: "DELETED", resource, object, previous });
    return object;
  }

  /** Whether history no longer reaches back to `rv`. */
  expired(rv: number): boolean {
    return rv < this.compactedAt;
  }

  /** Changes to a resource after `rv`, or "gone" when history no longer reaches back that far. */
  changesSince(resource: string, rv: number): Change[] | "gone" {
    if (this.expired(rv)) return "gone";
    // History is sorted by rv: find the first change after rv by binary search.
    let low = 0;
    let high = this.history.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.history[mid]!.rv <= rv) low = mid + 1;
      else high = mid;
    }
    return this.history.slice(low).filter((change) => change.resource === resource);
  }

  subscribe(resource: string, listener: ChangeListener): () => void {
    let set = this.listeners.get(resource);
    if (!set) this.listeners.set(resource, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Forgets all history, as an etcd compaction would: older versions now give 410. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  private record(change: Change): void {
    this.history.push(change);
    if (this.history.length > this.historyLimit * 1.25) {
      const dropped = this.history.length - this.historyLimit;
      this.compactedAt = this.history[dropped - 1]!.rv;
      this.history = this.history.slice(dropped);
    }
    for (const listener of this.listeners.get(change.resource) ?? []) listener(change);
  }
}

/** The first index of sorted `keys` at which `after` holds (it holds from there on). */
function firstIndex(keys: readonly string[], after: (key: string) => boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (after(keys[mid]!)) high = mid;
    else low = mid + 1;
  }
  return low;
}
