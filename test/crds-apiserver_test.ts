// Every CRD validation case, through an API server's HTTP front door: on devkube by
// default, and on a real kube-apiserver with HERALD_TEST_KUBE=real — where the CRDs meet
// the real OpenAPI validator, the real CEL environment and its cost budget. The same
// table as src/api/crds_test.ts, so a difference is a bug in devkube or in the table.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { customResourceDefinitions } from "../src/api/crds.ts";
import type { FieldCause } from "../src/schema/schema.ts";
import { ApiError } from "../src/kube/raw.ts";
import { cases, isStatusCase, samples, type Case, type Kind } from "./crd-cases.ts";
import { startCluster, type TestCluster } from "./cluster.ts";

let cluster: TestCluster;
before(async () => (cluster = await startCluster()));
after(() => cluster?.stop());

const plurals = new Map(
  customResourceDefinitions().map((crd) => [crd.spec.names.kind, crd.spec.names.plural]),
);

function collection(kind: Kind): string {
  return `/apis/herald.dev/v1alpha1/${plurals.get(kind)}`;
}

/** What the API server says of the object: [] when it accepts it (nothing is stored). */
async function causesOf(testCase: Case): Promise<FieldCause[]> {
  const { kind } = testCase;
  const object = testCase.object as Record<string, unknown>;
  // Status is written only through the status subresource: a create drops it.
  const statusCase = isStatusCase(testCase);
  const sample = samples[kind] as Record<string, unknown>;
  try {
    if (statusCase) {
      // Tried as a status update of the stored sample, which is removed again after.
      const name = (sample.metadata as { name: string }).name;
      const stored = (await cluster.post(collection(kind), { ...sample, metadata: { name } })) as {
        metadata: Record<string, unknown>;
      };
      try {
        await cluster.request("PUT", `${collection(kind)}/${name}/status?dryRun=All`, {
          ...object,
          metadata: { name, resourceVersion: stored.metadata.resourceVersion },
        });
      } finally {
        await cluster.request("DELETE", `${collection(kind)}/${name}`);
      }
    } else {
      const { name } = object.metadata as { name: string };
      await cluster.post(`${collection(kind)}?dryRun=All`, { ...object, metadata: { name } });
    }
    return [];
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 422) throw error;
    const status = JSON.parse(error.body) as { details?: { causes?: FieldCause[] } };
    return (status.details?.causes ?? []).map(({ reason, field, message }) => ({
      reason,
      field,
      message,
    }));
  }
}

const sorted = (causes: readonly FieldCause[]) =>
  [...causes].sort((a, b) => `${a.field}\0${a.message}`.localeCompare(`${b.field}\0${b.message}`));

describe(`every validation of every CRD, through the API (${process.env.HERALD_TEST_KUBE ?? "devkube"})`, () => {
  for (const testCase of cases) {
    it(`${testCase.kind}: ${testCase.name}`, async () => {
      const causes = await causesOf(testCase);
      // On the wire a cause about the whole object names the field "<nil>", as Go prints it.
      const expected = (testCase.expect ?? []).map((cause) => ({
        ...cause,
        field: cause.field || "<nil>",
      }));
      assert.deepEqual(sorted(causes), sorted(expected));
    });
  }
});
