// Sorts the input into what the checks read: Herald objects checked against their CRDs,
// and the core objects that matter to them (Services, Namespaces, Secrets). Wrong
// apiVersions and kinds, missing names and objects defined twice are reported here.
import { API_VERSION, GROUP, VERSION } from "../api/addresspool.ts";
import type { HeraldKind } from "../api/crds.ts";
import type { Labels } from "../api/selector.ts";
import type { ServiceObject } from "../api/service.ts";
import { isPlainObject } from "../api/validation.ts";
import { checkAgainstCrd, heraldKinds } from "./crd-check.ts";
import type { Document } from "./manifests.ts";
import { errorAt, warningAt, type Problem, type Subject } from "./problem.ts";

export interface HeraldObject {
  readonly subject: Subject;
  readonly kind: HeraldKind;
  readonly name: string;
  readonly labels: Labels;
  /** As the API server would store it: pruned and defaulted. */
  readonly stored: Record<string, unknown>;
  /** The API server would accept it. */
  readonly accepted: boolean;
}

export interface CoreObject<T = Record<string, unknown>> {
  readonly subject: Subject;
  readonly namespace: string;
  readonly name: string;
  readonly object: T;
}

export interface Inventory {
  /** Herald objects with a name, each name once per kind, in input order. */
  readonly herald: HeraldObject[];
  readonly services: CoreObject<ServiceObject>[];
  readonly namespaces: CoreObject[];
  readonly secrets: CoreObject[];
  readonly problems: Problem[];
}

const CORE_KINDS = ["Service", "Namespace", "Secret"] as const;

export function takeInventory(documents: readonly Document[]): Inventory {
  const inventory: Inventory = {
    herald: [],
    services: [],
    namespaces: [],
    secrets: [],
    problems: [],
  };
  const kinds = heraldKinds();
  /** "Kind namespace/name" -> the source that defined it first */
  const defined = new Map<string, string>();
  const firstDefinition = (subject: Subject): boolean => {
    const key = `${subject.kind} ${subject.name}`;
    const earlier = defined.get(key);
    if (earlier === undefined) {
      defined.set(key, subject.source);
      return true;
    }
    inventory.problems.push(
      errorAt(
        subject,
        "metadata.name",
        `also defined in ${earlier}; define each object once (the later one would replace the earlier)`,
      ),
    );
    return false;
  };

  for (const document of documents) {
    if ("error" in document) {
      inventory.problems.push(
        errorAt({ source: document.source, kind: "", name: "" }, "", document.error),
      );
      continue;
    }
    const { object, source } = document;
    const metadata = isPlainObject(object.metadata) ? object.metadata : {};
    const plainName = typeof metadata.name === "string" ? metadata.name : "";
    const kind = typeof object.kind === "string" ? object.kind : "";
    const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
    if (kind === "") {
      inventory.problems.push(
        errorAt(
          { source, kind: "", name: plainName },
          "kind",
          "Required value: a Kubernetes object needs a kind",
        ),
      );
      continue;
    }

    const heraldKind = kinds.find((k) => k === kind);
    const subject: Subject = { source, kind, name: plainName };
    if (apiVersion === API_VERSION && heraldKind) {
      const check = checkAgainstCrd(heraldKind, object);
      for (const problem of check.problems) {
        inventory.problems.push(errorAt(subject, problem.field, problem.message));
      }
      if (plainName === "" || !firstDefinition(subject)) continue;
      inventory.herald.push({
        subject,
        kind: heraldKind,
        name: plainName,
        labels: labelsOf(metadata),
        stored: check.stored,
        accepted: check.problems.length === 0,
      });
      continue;
    }
    const kindProblem = heraldKindProblem(kind, apiVersion, kinds);
    if (kindProblem) {
      inventory.problems.push(kindProblem(subject));
      continue;
    }
    if (apiVersion !== "v1" || !(CORE_KINDS as readonly string[]).includes(kind)) continue;

    const namespace = kind === "Namespace" ? "" : stringOr(metadata.namespace, "default");
    const coreSubject: Subject = {
      source,
      kind,
      name: namespace === "" ? plainName : `${namespace}/${plainName}`,
    };
    if (plainName === "") {
      inventory.problems.push(
        errorAt(coreSubject, "metadata.name", "Required value: name is required"),
      );
      continue;
    }
    if (!firstDefinition(coreSubject)) continue;
    const core = { subject: coreSubject, namespace, name: plainName, object };
    if (kind === "Service") inventory.services.push(core as CoreObject<ServiceObject>);
    else if (kind === "Namespace") inventory.namespaces.push(core);
    else inventory.secrets.push(core);
  }
  return inventory;
}

/** What is wrong with an object that is almost a Herald object, if it is one. */
function heraldKindProblem(
  kind: string,
  apiVersion: string,
  kinds: readonly string[],
): ((subject: Subject) => Problem) | undefined {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  if (group === GROUP) {
    if (version !== VERSION) {
      return (subject) =>
        errorAt(
          subject,
          "apiVersion",
          `Unsupported value: "${apiVersion}": Herald serves ${API_VERSION}`,
        );
    }
    const close = kinds.find((k) => k.toLowerCase() === kind.toLowerCase());
    const hint = close ? `did you mean ${close}?` : `its kinds are ${kinds.join(", ")}`;
    return (subject) =>
      errorAt(
        subject,
        "kind",
        `Unsupported value: "${kind}": no kind "${kind}" in ${API_VERSION}; ${hint}`,
      );
  }
  if (!kinds.includes(kind)) return undefined;
  if (group === "") {
    // "v1alpha1", "v1" or nothing: the group was left out.
    return (subject) =>
      errorAt(
        subject,
        "apiVersion",
        `${apiVersion === "" ? "Required value" : `Unsupported value: "${apiVersion}"`}: ${kind} is a kind of ${API_VERSION}`,
      );
  }
  // Another project's kind of the same name (MetalLB had an AddressPool): not ours to check.
  return (subject) =>
    warningAt(
      subject,
      "apiVersion",
      `${apiVersion} is not ${API_VERSION}; this ${kind} is not a Herald object and was not checked`,
    );
}

function labelsOf(metadata: Record<string, unknown>): Labels {
  return isPlainObject(metadata.labels) ? (metadata.labels as Labels) : {};
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

export function namespaceLabels(inventory: Inventory): Map<string, Labels> {
  return new Map(
    inventory.namespaces.map((namespace) => [
      namespace.name,
      labelsOf(namespaceMetadata(namespace)),
    ]),
  );
}

function namespaceMetadata(namespace: CoreObject): Record<string, unknown> {
  return isPlainObject(namespace.object.metadata) ? namespace.object.metadata : {};
}
