// Cilium chooses what to announce by service labels; Herald announces whole pools. What
// that difference means for one selector is said here, once for L2 and BGP alike.
import type { LabelSelector } from "../api/selector.ts";
import type { FieldReader } from "./reader.ts";
import { isEmptySelector } from "./selectors.ts";

/**
 * Herald cannot choose services by label for announcement: it announces every address of
 * a pool. The "match everything" idiom of Cilium's docs (NotIn a never-used value) only
 * earns a note; any other selector a warning.
 */
export function selectorFinding(
  reader: FieldReader,
  field: string,
  selector: LabelSelector,
  verb: "announces" | "advertises",
): void {
  if (isEmptySelector(selector)) return;
  const onlyNotIn =
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).every((r) => r.operator === "NotIn");
  const message = `Herald ${verb} every address of a pool and cannot choose services by label`;
  if (onlyNotIn) reader.note(field, `taken as "every service": ${message}`);
  else
    reader.warn(
      field,
      `${message}: every service is ${verb === "announces" ? "announced" : "advertised"}, not only those matching`,
    );
}
