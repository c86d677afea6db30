// BGP objects against each other and against the pools: advertisements that name or select
// nothing, peers whose password Secret is missing or unusable, and Routed pools whose
// addresses no advertisement would send anywhere. Which advertisement selects which pool is
// the agent's own rule (selectsPool in src/agent/bird/policy.ts).
import { selectsPool } from "../agent/bird/policy.ts";
import { passwordProblem } from "../agent/bird/render.ts";
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { SecretKeyRef } from "../api/bgppeer.ts";
import { selectorMatches, selectorProblems, type LabelSelector } from "../api/selector.ts";
import { isPlainObject } from "../api/validation.ts";
import type { CoreObject, HeraldObject } from "./inventory.ts";
import { errorAt, splitField, warningAt, type Problem, type Subject } from "./problem.ts";

export interface BGPInput {
  readonly pools: readonly HeraldObject[];
  readonly peers: readonly HeraldObject[];
  readonly advertisements: readonly HeraldObject[];
  readonly secrets: readonly CoreObject[];
  /** AgentConfig default's spec.routing: with External, BGP objects are not Herald's business. */
  readonly routing: "Bird" | "External";
}

export function checkBGP(input: BGPInput): Problem[] {
  return [
    ...input.advertisements.flatMap((advertisement) => advertisementProblems(advertisement, input)),
    ...input.peers.flatMap((peer) => peerProblems(peer, input.secrets)),
    ...(input.routing === "External" ? [] : unadvertisedPools(input)),
  ];
}

function specOf<T>(object: HeraldObject): T | undefined {
  const spec = object.stored.spec;
  return isPlainObject(spec) ? (spec as T) : undefined;
}

function selectorIssues(subject: Subject, selector: unknown, field: string): Problem[] {
  return selectorProblems(selector, field).map((text) => {
    const { field: at, message } = splitField(text);
    return errorAt(subject, at || field, message);
  });
}

function advertisementProblems(advertisement: HeraldObject, input: BGPInput): Problem[] {
  const spec = specOf<BGPAdvertisementSpec>(advertisement);
  if (!spec) return [];
  return [
    ...references(
      advertisement.subject,
      "AddressPool",
      "pools",
      spec.pools,
      spec.poolSelector,
      input.pools,
    ),
    ...references(
      advertisement.subject,
      "BGPPeer",
      "peers",
      spec.peers,
      spec.peerSelector,
      input.peers,
    ),
  ];
}

/** Problems with one of an advertisement's choices: pools/poolSelector or peers/peerSelector. */
function references(
  subject: Subject,
  kind: string,
  namesField: "pools" | "peers",
  names: unknown,
  selector: unknown,
  candidates: readonly HeraldObject[],
): Problem[] {
  const selectorField = namesField === "pools" ? "poolSelector" : "peerSelector";
  // Shapes the schema refuses are reported there; here only what could be meant is read.
  if (names !== undefined) {
    if (!Array.isArray(names)) return [];
    const known = new Set(candidates.map((candidate) => candidate.name));
    return names.flatMap((name: unknown, i) =>
      typeof name !== "string" || known.has(name)
        ? []
        : [
            errorAt(
              subject,
              `spec.${namesField}[${i}]`,
              `names ${kind} "${name}", which is not in the input`,
            ),
          ],
    );
  }
  if (selector !== undefined) {
    if (!isPlainObject(selector)) return [];
    const invalid = selectorIssues(subject, selector, `spec.${selectorField}`);
    if (invalid.length > 0) return invalid;
    const valid = selector as LabelSelector;
    if (!candidates.some((candidate) => selectorMatches(valid, candidate.labels))) {
      return [
        errorAt(
          subject,
          `spec.${selectorField}`,
          `selects no ${kind} in the input (${candidates.length} ${kind} object${candidates.length === 1 ? "" : "s"}, none with matching labels)`,
        ),
      ];
    }
    return [];
  }
  if (candidates.length === 0) {
    return [
      warningAt(
        subject,
        "spec",
        `sets neither ${namesField} nor ${selectorField}, so it applies to every ${kind}, and the input has none`,
      ),
    ];
  }
  return [];
}

function peerProblems(peer: HeraldObject, secrets: readonly CoreObject[]): Problem[] {
  const spec = specOf<{ nodeSelector?: unknown; passwordSecretRef?: unknown }>(peer);
  if (!spec) return [];
  const problems: Problem[] = [];
  if (isPlainObject(spec.nodeSelector)) {
    problems.push(...selectorIssues(peer.subject, spec.nodeSelector, "spec.nodeSelector"));
  }
  const ref = spec.passwordSecretRef;
  if (
    isPlainObject(ref) &&
    typeof ref.namespace === "string" &&
    typeof ref.name === "string" &&
    (ref.key === undefined || typeof ref.key === "string")
  ) {
    problems.push(...passwordProblems(peer.subject, ref as unknown as SecretKeyRef, secrets));
  }
  return problems;
}

function passwordProblems(
  subject: Subject,
  ref: SecretKeyRef,
  secrets: readonly CoreObject[],
): Problem[] {
  const key = ref.key ?? "password";
  const named = `Secret ${ref.namespace}/${ref.name}`;
  const secret = secrets.find((s) => s.namespace === ref.namespace && s.name === ref.name);
  if (!secret) {
    // Secrets usually live outside the configuration repository, so this is only a warning.
    return [
      warningAt(
        subject,
        "spec.passwordSecretRef",
        `${named} is not in the input; the agents read the TCP MD5 password from its key "${key}"`,
      ),
    ];
  }
  const password = secretValue(secret.object, key);
  const field = "spec.passwordSecretRef.key";
  if (password === undefined) {
    const keys = secretKeys(secret.object);
    return [
      errorAt(
        subject,
        field,
        `${named} (${secret.subject.source}) has no key "${key}"${keys.length > 0 ? `; its keys are ${keys.join(", ")}` : ""}`,
      ),
    ];
  }
  // The agent refuses the same passwords when it renders bird.conf.
  const problem = passwordProblem(password);
  return problem
    ? [errorAt(subject, field, `its password (${named} key "${key}") ${problem}`)]
    : [];
}

/** A Secret's value under `key`; stringData wins over data, as the API server folds it in. */
function secretValue(secret: Record<string, unknown>, key: string): string | undefined {
  const stringData = isPlainObject(secret.stringData) ? secret.stringData : {};
  if (typeof stringData[key] === "string") return stringData[key];
  const data = isPlainObject(secret.data) ? secret.data : {};
  const encoded = data[key];
  return typeof encoded === "string" ? Buffer.from(encoded, "base64").toString("utf8") : undefined;
}

function secretKeys(secret: Record<string, unknown>): string[] {
  const keys = new Set<string>();
  for (const field of ["data", "stringData"]) {
    const map = secret[field];
    if (isPlainObject(map)) for (const key of Object.keys(map)) keys.add(key);
  }
  return [...keys].sort();
}

/**
 * Routed pools that no BGPAdvertisement selects: BIRD would export none of their prefixes.
 * Auto pools are left alone: they are announced locally on nodes with an interface on the
 * address's subnet, and which nodes have one is not in the input, so whether an Auto pool
 * needs BGP at all cannot be told offline.
 */
function unadvertisedPools(input: BGPInput): Problem[] {
  const advertisements = input.advertisements
    .filter((advertisement) => advertisement.accepted)
    .map((advertisement) => specOf<BGPAdvertisementSpec>(advertisement))
    .filter((spec) => spec !== undefined);
  const problems: Problem[] = [];
  for (const pool of input.pools) {
    if (!pool.accepted) continue;
    if (specOf<{ announce?: string }>(pool)?.announce !== "Routed") continue;
    if (advertisements.some((spec) => selectsPool(spec, pool.name, pool.labels))) continue;
    problems.push(
      warningAt(
        pool.subject,
        "spec.announce",
        "announce is Routed, but no BGPAdvertisement in the input selects this pool, so BGP would announce " +
          "none of its addresses; add a BGPAdvertisement, or set announce: Local (or routing: External in AgentConfig)",
      ),
    );
  }
  return problems;
}
