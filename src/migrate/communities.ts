// BGP communities as the peers write them, in the two forms Herald's BGPAdvertisement takes:
// `communities` ("65000:100" or a well-known name) and `largeCommunities` ("a:b:c").
import { WELL_KNOWN_COMMUNITIES } from "../api/bgpadvertisement.ts";

export type ParsedCommunity = { standard: string } | { large: string } | { error: string };

const MAX_16 = 65535;
const MAX_32 = 4294967295;

/**
 * Names Cilium accepts (RFC 1997 and the IANA registry) that Herald does not list by name;
 * written as their number, which means the same on the wire.
 */
const NUMBERED_NAMES: Readonly<Record<string, string>> = {
  internet: "0:0",
  "planned-shut": "65535:0",
  "route-filter-translated-v4": "65535:2",
  "route-filter-v4": "65535:3",
  "route-filter-translated-v6": "65535:4",
  "route-filter-v6": "65535:5",
};

/**
 * Reads "65000:100", "large:65000:1:2" (MetalLB), "65000:1:2", a 32-bit decimal
 * ("4259840100", Cilium) or a well-known name.
 */
export function parseCommunity(text: string): ParsedCommunity {
  const value = text.trim();
  const name = value.toLowerCase();
  if ((WELL_KNOWN_COMMUNITIES as readonly string[]).includes(name)) return { standard: name };
  const numbered = NUMBERED_NAMES[name];
  if (numbered) return { standard: numbered };
  const large = /^(?:large:)?(\d{1,10}):(\d{1,10}):(\d{1,10})$/i.exec(value);
  if (large) {
    const parts = large.slice(1).map(Number);
    if (parts.some((part) => part > MAX_32)) {
      return { error: `"${value}": each part of a large community is 0 to ${MAX_32}` };
    }
    return { large: parts.join(":") };
  }
  const standard = /^(\d{1,5}):(\d{1,5})$/.exec(value);
  if (standard) {
    const parts = standard.slice(1).map(Number);
    if (parts.some((part) => part > MAX_16)) {
      return { error: `"${value}": each half of a community is 0 to ${MAX_16}` };
    }
    return { standard: parts.join(":") };
  }
  if (/^\d{1,10}$/.test(value) && Number(value) <= MAX_32) {
    const number = Number(value);
    return { standard: `${Math.floor(number / 65536)}:${number % 65536}` };
  }
  return {
    error: `"${value}" is not a community ("65000:100", "65000:1:2" or a well-known name such as no-export)`,
  };
}

/** Communities sorted into Herald's two lists, each without duplicates, in input order. */
export class CommunitySet {
  readonly standard: string[] = [];
  readonly large: string[] = [];

  add(parsed: { standard: string } | { large: string }): void {
    const list = "standard" in parsed ? this.standard : this.large;
    const value = "standard" in parsed ? parsed.standard : parsed.large;
    if (!list.includes(value)) list.push(value);
  }
}
