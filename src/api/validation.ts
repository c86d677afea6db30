// Checks shared by every object Herald validates itself (objects read from YAML by the
// CLI, or that reached the API without schema validation).

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** RFC 1123 label: namespace names. */
export function isDnsLabel(text: string): boolean {
  return DNS_LABEL.test(text);
}

/** RFC 1123 subdomain: most object names, label-key prefixes. */
export function isDnsSubdomain(text: string): boolean {
  return text.length <= 253 && DNS_SUBDOMAIN.test(text);
}

/** One message per field not in `known`, suggesting the field meant when only case differs. */
export function unknownFields(
  object: Record<string, unknown>,
  known: readonly string[],
  path: string,
): string[] {
  return Object.keys(object)
    .filter((field) => !known.includes(field))
    .map((field) => {
      const close = known.find((k) => k.toLowerCase() === field.toLowerCase());
      const hint = close ? `did you mean ${close}?` : `known fields are ${known.join(", ")}`;
      return `${path}.${field}: unknown field; ${hint}`;
    });
}
