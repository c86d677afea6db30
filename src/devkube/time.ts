// Timestamps as the API server writes them: RFC 3339 in UTC, to the second (metav1.Time
// drops fractions, and clients compare these strings).

// The last second formatted: a burst of creates asks for the same one thousands of times.
let last = { seconds: NaN, text: "" };

export function now(): string {
  const seconds = Math.floor(Date.now() / 1000);
  if (seconds !== last.seconds) last = { seconds, text: rfc3339(seconds) };
  return last.text;
}

export function rfc3339(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
