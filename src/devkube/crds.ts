// CustomResourceDefinitions: what makes one acceptable, the status the API server gives
// it, and the resource types it asks devkube to serve.
import { invalid } from "./status.ts";
import type { CrdObject, ResourceType } from "./resources.ts";
import { compileSchema, type FieldCause } from "../schema/schema.ts";
import type { KubeObject } from "./store.ts";
import { now } from "./time.ts";

/** Checks a CRD (throws a 422 StatusError) and fills in its status as accepted and established. */
export function checkCrd(object: KubeObject, crdType: ResourceType): void {
  const spec = (object as CrdObject).spec;
  const names = spec?.names;
  const causes: FieldCause[] = [];
  if (!spec?.group) causes.push(required("spec.group"));
  if (!names?.plural) causes.push(required("spec.names.plural"));
  if (!names?.kind) causes.push(required("spec.names.kind"));
  if (spec?.scope !== "Namespaced" && spec?.scope !== "Cluster") {
    causes.push({
      reason: "FieldValueNotSupported",
      field: "spec.scope",
      message: `Unsupported value: "${String(spec?.scope)}": supported values: "Cluster", "Namespaced"`,
    });
  }
  if (spec?.group && names?.plural && object.metadata.name !== `${names.plural}.${spec.group}`) {
    causes.push({
      reason: "FieldValueInvalid",
      field: "metadata.name",
      message: `Invalid value: "${object.metadata.name}": must be spec.names.plural+"."+spec.group`,
    });
  }
  (spec?.versions ?? []).forEach((version, i) => {
    const compiled = compileSchema(schemaOf(version));
    if ("problems" in compiled) {
      for (const problem of compiled.problems) {
        causes.push({
          reason: "FieldValueInvalid",
          field: `spec.versions[${i}].schema.openAPIV3Schema`,
          message: `Invalid value: "object": ${problem}`,
        });
      }
    }
  });
  if (!spec?.versions?.length) causes.push(required("spec.versions"));
  if (causes.length > 0) throw invalid(crdType, object.metadata.name, causes);
  object.status = {
    conditions: [
      {
        type: "NamesAccepted",
        status: "True",
        reason: "NoConflicts",
        message: "no conflicts found",
        lastTransitionTime: now(),
      },
      {
        type: "Established",
        status: "True",
        reason: "InitialNamesAccepted",
        message: "the initial names have been accepted",
        lastTransitionTime: now(),
      },
    ],
    acceptedNames: {
      ...names,
      listKind: names?.listKind ?? `${names?.kind}List`,
      singular: names?.singular ?? names?.kind?.toLowerCase(),
    },
    storedVersions: (spec?.versions ?? []).filter((v) => v.storage).map((v) => v.name),
  };
}

/** The resource types of a stored (checked) CRD: one for each version it serves. */
export function crdResourceTypes(object: KubeObject): ResourceType[] {
  const spec = (object as CrdObject).spec!;
  const names = spec.names!;
  const types: ResourceType[] = [];
  for (const version of spec.versions ?? []) {
    if (version.served === false) continue;
    const compiled = compileSchema(schemaOf(version));
    if ("problems" in compiled) continue;
    types.push({
      group: spec.group!,
      version: version.name!,
      kind: names.kind!,
      listKind: names.listKind ?? `${names.kind}List`,
      plural: names.plural!,
      singular: names.singular ?? names.kind!.toLowerCase(),
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      namespaced: spec.scope === "Namespaced",
      statusSubresource: version.subresources?.status !== undefined,
      generation: true,
      updateNeedsVersion: true,
      selectableFields: (version.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, "")),
      // As in Kubernetes, Age is a default column only when the CRD declares none.
      printerColumns: version.additionalPrinterColumns?.length
        ? version.additionalPrinterColumns
        : [{ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" }],
      schema: compiled.schema,
      openApiSchema: version.schema?.openAPIV3Schema,
      crd: object.metadata.name,
    });
  }
  return types;
}

type CrdVersion = NonNullable<NonNullable<CrdObject["spec"]>["versions"]>[number];

/** A version without a schema keeps whatever it is given. */
function schemaOf(version: CrdVersion): unknown {
  return (
    version.schema?.openAPIV3Schema ?? {
      type: "object",
      "x-kubernetes-preserve-unknown-fields": true,
    }
  );
}

function required(field: string): FieldCause {
  return { reason: "FieldValueRequired", field, message: "Required value" };
}
