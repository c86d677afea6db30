// BGP communities as BGPAdvertisement writes them ("65000:100", "no-export", "65000:1:2"),
// turned into the numbers BIRD's filters take.
import type { WELL_KNOWN_COMMUNITIES } from "../../api/bgpadvertisement.ts";

/** A standard community (RFC 1997): two 16-bit halves, as BIRD's `(a,b)` pair. */
export type Community = readonly [number, number];

/** A large community (RFC 8092): three 32-bit numbers, as BIRD's `(a,b,c)` triple. */
export type LargeCommunity = readonly [number, number, number];

type WellKnown = (typeof WELL_KNOWN_COMMUNITIES)[number];

// BIRD 2 knows only some of these by name, and spells them differently from GoBGP (whose
// names the CRD takes); numbers mean the same thing to every BIRD version and every router.
const WELL_KNOWN_VALUES: Readonly<Record<WellKnown, Community>> = {
  "graceful-shutdown": [65535, 0], // RFC 8326
  "accept-own": [65535, 1], // RFC 7611
  "llgr-stale": [65535, 6], // RFC 9494
  "no-llgr": [65535, 7], // RFC 9494
  blackhole: [65535, 666], // RFC 7999
  "no-export": [65535, 65281], // RFC 1997
  "no-advertise": [65535, 65282], // RFC 1997
  "no-export-subconfed": [65535, 65283], // RFC 1997
  "no-peer": [65535, 65284], // RFC 3765
};

const U16 = 0xffff;
const U32 = 0xffffffff;

function numbers(text: string, count: number, max: number): number[] | undefined {
  const parts = text.split(":");
  if (parts.length !== count || parts.some((p) => !/^[0-9]{1,10}$/.test(p))) return undefined;
  const values = parts.map(Number);
  return values.every((v) => v <= max) ? values : undefined;
}

/** "65000:100" or a well-known name; undefined when it is neither. */
export function parseCommunity(text: string): Community | undefined {
  if (Object.hasOwn(WELL_KNOWN_VALUES, text)) return WELL_KNOWN_VALUES[text as WellKnown];
  const values = numbers(text, 2, U16);
  return values && [values[0]!, values[1]!];
}

/** "65000:1:2"; undefined when it is not three 32-bit numbers. */
export function parseLargeCommunity(text: string): LargeCommunity | undefined {
  const values = numbers(text, 3, U32);
  return values && [values[0]!, values[1]!, values[2]!];
}

/** Numeric order, so that rendered configuration does not depend on input order. */
export function compareTuples(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
