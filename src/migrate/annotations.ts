// The Service annotations of a peer that Herald reads itself (DESIGN §3), named from the
// lists the controller uses, so this note cannot drift from what Herald does.
import {
  ADDRESSES_ANNOTATIONS,
  POOL_ANNOTATIONS,
  SHARING_KEY_ANNOTATIONS,
} from "../api/service.ts";

/** The annotations among Herald's accepted ones whose names start with one of `prefixes`. */
export function honouredAnnotations(prefixes: readonly string[]): string[] {
  return [...POOL_ANNOTATIONS, ...ADDRESSES_ANNOTATIONS, ...SHARING_KEY_ANNOTATIONS].filter(
    (name) => prefixes.some((prefix) => name.startsWith(prefix)),
  );
}

export function servicesNote(prefixes: readonly string[], more = ""): string {
  const names = honouredAnnotations(prefixes);
  return (
    `Services need no rewrite: Herald reads ${names.join(", ")} itself ` +
    `(herald.dev/* annotations win when both are set), and spec.loadBalancerIP too` +
    (more ? `; ${more}` : "")
  );
}
