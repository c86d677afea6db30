// Go durations ("90s", "1m30s", "500ms"), the way MetalLB writes BGP timers (metav1.Duration).
import type { FieldReader } from "./reader.ts";

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds, or why the text is not a Go duration. */
export function parseGoDuration(text: string): { seconds: number } | { error: string } {
  const value = text.trim();
  if (value === "0") return { seconds: 0 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let seconds = 0;
  let index = 0;
  while (index < value.length) {
    part.lastIndex = index;
    const match = part.exec(value);
    if (!match) return { error: `"${value}" is not a duration such as "90s" or "1m30s"` };
    seconds += Number(match[1]) * UNIT_SECONDS[match[2]!]!;
    index = part.lastIndex;
  }
  if (value === "") return { error: "is empty" };
  return { seconds };
}

/**
 * A timer in whole seconds from a Go duration (or a bare number of seconds); fractions are
 * rounded, since BIRD takes seconds.
 */
export function durationSeconds(reader: FieldReader, field: string): number | undefined {
  const value = reader.value(field);
  if (value === undefined) return undefined;
  if (typeof value === "number" || typeof value === "string") {
    return secondsOf(reader, field, String(value));
  }
  reader.warn(field, `must be a duration such as "90s"; ignored`);
  return undefined;
}

function secondsOf(reader: FieldReader, field: string, text: string): number | undefined {
  const parsed = /^\d+(\.\d+)?$/.test(text.trim())
    ? { seconds: Number(text) }
    : parseGoDuration(text);
  if ("error" in parsed) {
    reader.warn(field, `${parsed.error}; ignored`);
    return undefined;
  }
  const whole = Math.round(parsed.seconds);
  if (whole !== parsed.seconds) {
    reader.warn(field, `${text} is not a whole number of seconds; Herald (BIRD) uses ${whole}s`);
  }
  return whole;
}
