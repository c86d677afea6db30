// Timestamps as the API server writes them: RFC 3339 in UTC, to the second (metav1.Time
// drops fractions, and clients compare these strings).

import { rfc3339 } from "../api/meta.ts";

export function now(): string {
  return rfc3339(Date.now());
}
