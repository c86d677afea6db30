// The peers' own documentation examples, converted: every field of every input object is
// either carried into Herald's objects (and checked there) or named by a finding. The
// accounting walks every leaf of each input, so an example added to the tables, or a
// converter change that drops a field, is held to the same rule without a new assertion.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CORE_SCHEMA, loadAll } from "js-yaml";
import { isPlainObject } from "../api/validation.ts";
import {
  configuredLeaves,
  findingNaming,
  isWithin,
  valueAt,
} from "../../test/doc-examples/accounting.ts";
import { CILIUM_EXAMPLES } from "../../test/doc-examples/cilium.ts";
import type { DocExample } from "../../test/doc-examples/example.ts";
import { METALLB_EXAMPLES } from "../../test/doc-examples/metallb.ts";
import { OPENELB_EXAMPLES } from "../../test/doc-examples/openelb.ts";
import { PURELB_EXAMPLES } from "../../test/doc-examples/purelb.ts";
import { formatFinding } from "./findings.ts";
import { migrate, type PeerName } from "./migrate.ts";
import { assertValidOutput } from "../../test/migrate.ts";

const TABLES: Record<PeerName, readonly DocExample[]> = {
  metallb: METALLB_EXAMPLES,
  cilium: CILIUM_EXAMPLES,
  purelb: PURELB_EXAMPLES,
  openelb: OPENELB_EXAMPLES,
};

/** "Kind/name:path" -> ["Kind/name", "path"]. */
function split(reference: string): [string, string] {
  const colon = reference.indexOf(":");
  return colon < 0 ? [reference, ""] : [reference.slice(0, colon), reference.slice(colon + 1)];
}

function keyOf(object: Record<string, unknown>): string {
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  return `${String(object.kind)}/${String(metadata.name)}`;
}

function check(peer: PeerName, example: DocExample, index: number): void {
  const documents = loadAll(example.yaml, { schema: CORE_SCHEMA }).filter(isPlainObject);
  const items = documents.map((object, i) => ({
    object,
    source: `${peer} example ${index + 1} (document ${i + 1})`,
  }));
  const result = migrate(peer, items);
  const report = result.findings.map(formatFinding).join("\n");
  assert.ok(result.claimed > 0, `nothing of ${peer} in the example`);
  const inputs = new Map(items.map((item) => [keyOf(item.object), item]));
  const outputs = new Map(
    result.objects.map(({ object }) => [`${object.kind}/${object.metadata.name}`, object]),
  );

  assertValidOutput(result.objects);

  for (const [from, to] of Object.entries(example.carried)) {
    const [fromKey, fromPath] = split(from);
    const item = inputs.get(fromKey);
    assert.ok(item, `${from}: no ${fromKey} in the example`);
    const input = valueAt(item.object, fromPath);
    assert.notEqual(input, undefined, `${from} is not in the example`);
    const [target, expected] = typeof to === "string" ? [to, input] : [to[0], to[1]];
    const [toKey, toPath] = split(target);
    const written = outputs.get(toKey);
    assert.ok(written, `${from}: ${toKey} was not written; written: ${[...outputs.keys()]}`);
    assert.deepEqual(valueAt(written, toPath), expected, `${from} -> ${target}\n${report}`);
  }

  const ignored = new Set(example.ignored ?? []);
  for (const key of ignored) {
    const item = inputs.get(key);
    assert.ok(item, `${key} is not in the example`);
    assert.ok(
      result.findings.some((f) => f.origin?.source === item.source && f.field === undefined),
      `${key} is ignored without a finding`,
    );
  }

  const carried = [...Object.keys(example.carried), ...(example.defaults ?? [])].map(split);
  for (const [key, path] of (example.defaults ?? []).map(split)) {
    assert.notEqual(
      valueAt(inputs.get(key)?.object, path),
      undefined,
      `${key}:${path} is not in the example`,
    );
  }
  const silent: string[] = [];
  const uncarried: string[] = [];
  for (const [key, item] of inputs) {
    if (ignored.has(key)) continue;
    for (const leaf of configuredLeaves(item.object)) {
      if (carried.some(([k, path]) => k === key && isWithin(leaf.path, path))) continue;
      uncarried.push(`${key}:${leaf.path}`);
      if (!findingNaming(result.findings, item.source, leaf.path)) {
        silent.push(`${key}:${leaf.path}`);
      }
    }
  }
  assert.deepEqual(silent, [], `fields dropped without a finding\n${report}`);

  const listed = example.unconverted.map(split);
  const covered = (reference: string) => {
    const [key, path] = split(reference);
    return listed.some(([k, p]) => k === key && isWithin(path, p));
  };
  assert.deepEqual(
    uncarried.filter((reference) => !covered(reference)),
    [],
    `fields not carried but not listed as unconverted\n${report}`,
  );
  for (const [key, path] of listed) {
    assert.ok(
      uncarried.some((reference) => {
        const [k, p] = split(reference);
        return k === key && isWithin(p, path);
      }),
      `${key}:${path} is listed as unconverted, but is carried or not in the example`,
    );
  }
}

describe("the peers' documentation examples: no field dropped without a finding", () => {
  for (const [peer, examples] of Object.entries(TABLES) as [PeerName, DocExample[]][]) {
    describe(peer, () => {
      examples.forEach((example, i) => {
        it(`${i + 1}: ${example.page}`, () => check(peer, example, i));
      });
    });
  }
});
