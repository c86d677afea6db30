// Checks every converter needs for BGP sessions and local interfaces, in Herald's terms.
import type { BGPPeerSpec } from "../api/bgppeer.ts";
import { isPlainObject } from "../api/validation.ts";
import type { FieldReader } from "./reader.ts";

export interface TimerFields {
  readonly hold: string;
  readonly keepalive: string;
}

/**
 * Hold and keepalive times Herald's BGPPeer accepts (RFC 4271: hold 0 or 3 to 65535 s,
 * keepalive below hold); a value that is not is left out with a warning, so BIRD's default
 * applies to it instead of the object being refused.
 */
export function checkTimers(
  reader: FieldReader,
  holdTime: number | undefined,
  keepaliveTime: number | undefined,
  fields: TimerFields = { hold: "holdTime", keepalive: "keepaliveTime" },
): Pick<BGPPeerSpec, "holdTime" | "keepaliveTime"> {
  const result: Pick<BGPPeerSpec, "holdTime" | "keepaliveTime"> = {};
  if (holdTime !== undefined) {
    if ((holdTime === 0 || holdTime >= 3) && holdTime <= 65535) result.holdTime = holdTime;
    else
      reader.warn(fields.hold, `${holdTime}s is not 0 or 3 to 65535 seconds (RFC 4271); left out`);
  }
  if (keepaliveTime !== undefined) {
    const hold = result.holdTime;
    const fits =
      keepaliveTime <= 21845 &&
      (hold === undefined || (hold === 0 ? keepaliveTime === 0 : keepaliveTime < hold));
    if (fits) result.keepaliveTime = keepaliveTime;
    else {
      reader.warn(
        fields.keepalive,
        `${keepaliveTime}s is not below the hold time${hold === undefined ? "" : ` (${hold}s)`}; left out (BIRD uses a third of the hold time)`,
      );
    }
  }
  return result;
}

/** The eBGP multihop TTL, or undefined (with a note) for an iBGP session, which needs none. */
export function ebgpMultihopOf(
  reader: FieldReader,
  field: string,
  spec: Pick<BGPPeerSpec, "peerASN" | "localASN">,
  ttl: number,
): number | undefined {
  if (spec.peerASN === spec.localASN) {
    reader.note(
      field,
      "an iBGP session needs no eBGP multihop (BIRD runs iBGP multihop already); left out",
    );
    return undefined;
  }
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) {
    reader.warn(field, `TTL ${ttl} is not 1 to 255; left out`);
    return undefined;
  }
  return ttl;
}

/** Herald's limit on interface patterns of a pool or AgentConfig. */
const PATTERN_LIMIT = 16;

/** Interface names as Herald's anchored regexes: "eth0.100" -> "^eth0\.100$". */
export function interfacePatterns(names: readonly string[]): string[] {
  const patterns = [...new Set(names)]
    .filter((name) => name.trim() !== "")
    .map((name) => `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  return patterns.slice(0, PATTERN_LIMIT);
}

/** Whether Herald's agent (JavaScript) can compile the pattern; the peers used Go's RE2. */
export function isRegex(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Graceful restart (`true`, or `{enabled: true, …}`) is reported; disabled, it is what
 * Herald does anyway.
 */
export function gracefulRestartFinding(reader: FieldReader, field: string): void {
  const value = reader.value(field);
  if (value === true || (isPlainObject(value) && value.enabled === true)) {
    reader.warn(
      field,
      "has no Herald equivalent; BIRD's graceful restart is not configured, so when BIRD restarts its peers withdraw the node's routes until the sessions are up again",
    );
  }
}
