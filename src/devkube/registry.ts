// The resource types served now: the built-in ones always, and each CRD's from the moment
// it is stored until it is deleted.
import { crdResourceTypes } from "./crds.ts";
import { BUILT_IN_RESOURCES, resourceKey, type ResourceType } from "./resources.ts";
import type { KubeObject } from "./store.ts";

export class ResourceRegistry {
  /** resource key ("group/version/plural") -> type */
  private readonly types = new Map<string, ResourceType>();
  /** The types as a list, until a CRD changes them: every request resolves its path in it. */
  private list: ResourceType[] | undefined;

  constructor() {
    for (const type of BUILT_IN_RESOURCES) this.types.set(resourceKey(type), type);
  }

  get(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.get(resourceKey({ group, version, plural }));
  }

  /** Every type served now; the caller must not change the list. */
  all(): readonly ResourceType[] {
    return (this.list ??= [...this.types.values()]);
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.version === version);
  }

  /** Serves the versions a CRD now declares, and stops serving those it no longer does. */
  serveCrd(crd: KubeObject): void {
    this.withdrawCrd(crd.metadata.name);
    for (const type of crdResourceTypes(crd)) this.types.set(resourceKey(type), type);
    this.list = undefined;
  }

  /** Stops serving a CRD's resources; returns the types withdrawn. */
  withdrawCrd(name: string): ResourceType[] {
    const withdrawn = this.all().filter((type) => type.crd === name);
    for (const type of withdrawn) this.types.delete(resourceKey(type));
    this.list = undefined;
    return withdrawn;
  }
}
