// Whatever the input, a migration reports problems as findings: it never throws, every
// object it writes passes the API server's schema and CEL rules (devkube's validator, the
// one the integration test runs behind HTTP), and every AddressPool is one the controller
// accepts. Checked by breaking one field of the examples at a time with arbitrary JSON.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { CORE_SCHEMA, loadAll } from "js-yaml";
import { isPlainObject } from "../api/validation.ts";
import { migrate, type PeerName } from "./migrate.ts";
import { assertValidOutput } from "../../test/migrate.ts";

const examples = fileURLToPath(new URL("../../examples/migrate/", import.meta.url));

interface Example {
  peer: PeerName;
  objects: Record<string, unknown>[];
}

const sets: Example[] = readdirSync(examples).map((dir) => ({
  peer: dir.replace(/-legacy$/, "") as PeerName,
  objects: readdirSync(join(examples, dir))
    .filter((file) => file.endsWith(".yaml"))
    .flatMap((file) =>
      loadAll(readFileSync(join(examples, dir, file), "utf8"), { schema: CORE_SCHEMA }),
    )
    .filter(isPlainObject),
}));

/** Every path to a value below `value`, as lists of keys and indexes. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const children: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isPlainObject(value)
      ? Object.entries(value)
      : [];
  return children.flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
}

function replaced(object: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(object) ? [...object] : { ...(object as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head!] = replaced(copy[head!], rest, value);
  return copy;
}

describe("migrate on broken input", () => {
  for (const set of sets) {
    it(`${set.peer}: one field replaced by arbitrary JSON never throws, never writes a bad object`, () => {
      const targets = set.objects.flatMap((object, index) =>
        paths(object).map((path) => ({ index, path })),
      );
      fc.assert(
        fc.property(fc.constantFrom(...targets), fc.jsonValue(), ({ index, path }, value) => {
          const objects = set.objects.map((o, i) => (i === index ? replaced(o, path, value) : o));
          const result = migrate(
            set.peer,
            objects.filter(isPlainObject).map((object, i) => ({ object, source: `doc ${i}` })),
          );
          assertValidOutput(result.objects);
        }),
        { numRuns: 400 },
      );
    });
  }
});
