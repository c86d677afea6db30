// Timestamps as the API server writes them: RFC 3339 in UTC, to the second (metav1.Time
// drops fractions, and clients compare these strings).

export function now(): string {
  return rfc3339(Math.floor(Date.now() / 1000));
}

export function rfc3339(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
