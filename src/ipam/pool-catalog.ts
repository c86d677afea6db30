// Turns the AddressPool objects in the cluster into the pools the allocator uses. A pool
// whose spec is invalid (it slipped past validation, or predates a rule) must not take
// addresses away from the services holding them: it keeps its last valid version while
// the controller runs, or, with none known, the address entries that still parse — in
// both cases disabled, handing out nothing new, with the problems in its status.
import { compilePool, salvagePool, type Pool } from "./pool.ts";

export interface CatalogView {
  pools: Pool[];
  /** pool name -> problems of its current spec (absent when valid) */
  problems: Map<string, string[]>;
}

export class PoolCatalog {
  /** pool name -> its last valid version */
  private readonly lastGood = new Map<string, Pool>();

  update(objects: readonly unknown[]): CatalogView {
    const pools: Pool[] = [];
    const problems = new Map<string, string[]>();
    const seen = new Set<string>();
    for (const object of objects) {
      const compiled = compilePool(object);
      if (!compiled.problems) {
        seen.add(compiled.pool.name);
        this.lastGood.set(compiled.pool.name, compiled.pool);
        pools.push(compiled.pool);
        continue;
      }
      const name = nameOf(object);
      if (name === undefined) continue;
      seen.add(name);
      problems.set(name, compiled.problems);
      const summary = compiled.problems.join("; ");
      const previous = this.lastGood.get(name);
      const standIn = previous ? { ...previous, disabled: summary } : salvagePool(object, summary);
      if (standIn) pools.push(standIn);
    }
    for (const name of [...this.lastGood.keys()]) if (!seen.has(name)) this.lastGood.delete(name);
    return { pools, problems };
  }
}

function nameOf(object: unknown): string | undefined {
  const name = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === "string" && name !== "" ? name : undefined;
}
