// BGP passwords for the agents, copied into one Secret. A BGPPeer names its password with
// passwordSecretRef, a Secret of the user's choosing; RBAC cannot let the agents read
// Secrets whose names it does not know without letting them read every Secret of the
// namespace. So the leading controller — two replicas, not one per node — reads the
// Secrets the BGPPeers name and writes each password under the peer's name into
// `herald-agent-bgp`, and the agents may read that Secret and the detector key by name
// only (deploy/base/agent-rbac.yaml). A peer whose reference does not resolve gets a
// Warning event and no entry; its agents say "no password copied" in their NodeState.
import { API_VERSION } from "../api/addresspool.ts";
import { BGP_PASSWORDS_SECRET } from "../api/bgppeer.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import type { Informer } from "../kube/informer.ts";
import type { EventRecorder } from "../kube/events.ts";
import { ApiError, type RawClient } from "../kube/raw.ts";
import type { Logger } from "../log.ts";

export interface PeerPasswordRef {
  readonly peer: string;
  readonly ref: { namespace?: string; name?: string; key?: string };
}

export interface SecretData {
  readonly metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  readonly data?: Record<string, string>;
}

export interface PasswordCopy {
  /** Peer name → the password, base64 as Secrets hold it. */
  readonly data: Record<string, string>;
  /** Peer name → why its password cannot be copied. */
  readonly problems: ReadonlyMap<string, string>;
}

/** What `herald-agent-bgp` should hold for these references. Pure. */
export function desiredPasswords(
  refs: readonly PeerPasswordRef[],
  secret: (name: string) => SecretData | undefined,
  namespace: string,
): PasswordCopy {
  const data: Record<string, string> = {};
  const problems = new Map<string, string>();
  for (const { peer, ref } of [...refs].sort((a, b) => (a.peer < b.peer ? -1 : 1))) {
    const key = ref.key ?? "password";
    const where = ref.namespace ?? namespace;
    if (where !== namespace) {
      problems.set(
        peer,
        `passwordSecretRef must name a Secret in ${namespace}, the agents' namespace, not ${where}`,
      );
      continue;
    }
    if (!ref.name) {
      problems.set(peer, "passwordSecretRef has no name");
      continue;
    }
    const found = secret(ref.name);
    if (!found) {
      problems.set(peer, `Secret ${namespace}/${ref.name} does not exist`);
      continue;
    }
    const value = found.data?.[key];
    if (!value) {
      problems.set(peer, `Secret ${namespace}/${ref.name} has no key "${key}"`);
      continue;
    }
    data[peer] = value;
  }
  return { data, problems };
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const left = Object.entries(a ?? {}).sort(([x], [y]) => (x < y ? -1 : 1));
  const right = Object.entries(b).sort(([x], [y]) => (x < y ? -1 : 1));
  return JSON.stringify(left) === JSON.stringify(right);
}

export interface PasswordCopierOptions {
  namespace: string;
  peers: Informer<{ metadata?: { name?: string; uid?: string }; spec?: unknown }>;
  /** The controller's namespace's Secrets: the ones BGPPeers name, and the copy. */
  secrets: Informer<SecretData>;
  raw: Pick<RawClient, "request">;
  events: Pick<EventRecorder, "warning" | "normal">;
  clock: Clock;
  log: Logger;
}

/** Keeps `herald-agent-bgp` equal to desiredPasswords while leading. */
export class PasswordCopier {
  readonly #o: PasswordCopierOptions;
  #leading = false;
  #running = false;
  #again = false;
  #failures = 0;
  #retry: TimerHandle | undefined;
  /** Peer → the problem last reported for it, so that an event is sent once per change. */
  readonly #reported = new Map<string, string>();

  constructor(options: PasswordCopierOptions) {
    this.#o = options;
    const changed = () => this.sync();
    for (const informer of [options.peers, options.secrets])
      for (const event of ["add", "update", "delete"] as const) informer.on(event, changed);
  }

  setLeading(leading: boolean): void {
    this.#leading = leading;
    // The caches' first lists may still run: their events come before they count as synced.
    if (leading)
      void Promise.all([this.#o.peers.synced, this.#o.secrets.synced]).then(
        () => this.sync(),
        () => undefined,
      );
    else if (this.#retry) {
      this.#o.clock.clearTimeout(this.#retry);
      this.#retry = undefined;
    }
  }

  /** Compares and writes; calls that arrive while a write runs are folded into one more pass. */
  sync(): void {
    if (!this.#leading || !this.#o.peers.isSynced() || !this.#o.secrets.isSynced()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#pass().finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.sync();
      }
    });
  }

  async #pass(): Promise<void> {
    const { namespace, log } = this.#o;
    const refs: PeerPasswordRef[] = [];
    for (const peer of this.#o.peers.list()) {
      const ref = (peer.spec as { passwordSecretRef?: PeerPasswordRef["ref"] } | undefined)
        ?.passwordSecretRef;
      if (peer.metadata?.name && ref) refs.push({ peer: peer.metadata.name, ref });
    }
    const desired = desiredPasswords(
      refs,
      (name) => (name === BGP_PASSWORDS_SECRET ? undefined : this.#o.secrets.get(name, namespace)),
      namespace,
    );
    this.#report(desired.problems, new Set(refs.map((r) => r.peer)));
    const current = this.#o.secrets.get(BGP_PASSWORDS_SECRET, namespace);
    if (current && sameData(current.data, desired.data)) {
      this.#failures = 0;
      return;
    }
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
    const body = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: BGP_PASSWORDS_SECRET,
        namespace,
        labels: { "app.kubernetes.io/part-of": "herald" },
        ...(current ? { resourceVersion: current.metadata?.resourceVersion } : {}),
      },
      type: "Opaque",
      data: desired.data,
    };
    try {
      if (current) await this.#o.raw.request("PUT", `${path}/${BGP_PASSWORDS_SECRET}`, body);
      else await this.#o.raw.request("POST", path, body);
      this.#failures = 0;
      log.info(
        { secret: `${namespace}/${BGP_PASSWORDS_SECRET}`, peers: Object.keys(desired.data) },
        "copied the BGP passwords for the agents",
      );
    } catch (error) {
      // 409: the cache is behind (another write, or the Secret made meanwhile); the
      // informer's event brings a pass with the new version. Anything else: back off.
      if (error instanceof ApiError && error.code === 409) return;
      this.#failures++;
      const retryInMs = Math.min(30_000, 500 * 2 ** (this.#failures - 1));
      log.warn(
        { err: String(error), retryInMs },
        "could not write the agents' BGP password Secret",
      );
      this.#retry ??= this.#o.clock.setTimeout(() => {
        this.#retry = undefined;
        this.sync();
      }, retryInMs);
    }
  }

  #report(problems: ReadonlyMap<string, string>, peers: ReadonlySet<string>): void {
    for (const [peer, problem] of problems) {
      if (this.#reported.get(peer) === problem) continue;
      this.#reported.set(peer, problem);
      this.#o.log.warn({ peer, problem }, "BGP password not copied");
      this.#o.events.warning(
        { apiVersion: API_VERSION, kind: "BGPPeer", name: peer },
        "PasswordUnresolved",
        `${problem}; the agents configure no session with this peer until it resolves`,
      );
    }
    for (const peer of [...this.#reported.keys()]) {
      if (problems.has(peer)) continue;
      this.#reported.delete(peer);
      if (!peers.has(peer)) continue; // deleted, or no password any more: nothing to say
      this.#o.events.normal(
        { apiVersion: API_VERSION, kind: "BGPPeer", name: peer },
        "PasswordResolved",
        `password copied into ${this.#o.namespace}/${BGP_PASSWORDS_SECRET} for the agents`,
      );
    }
  }
}
