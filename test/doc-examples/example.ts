// One configuration example of a peer's own documentation, as a new user would feed it to
// `herald migrate`, with what must become of each of its fields. The YAML is written
// here from what the page specifies (same objects, names and values), not copied.

export interface DocExample {
  /** The page and section the example follows: "metallb.universe.tf/configuration/ § BGP configuration". */
  readonly page: string;
  readonly yaml: string;
  /**
   * Fields carried into Herald's objects: "Kind/name:input path" (a field, or an object
   * whose fields all go to one place) -> "Kind/name:output path" holding the same value,
   * or [that path, the value Herald writes] when the conversion changes it (undefined:
   * the field is left unset, because Herald's default means the same).
   */
  readonly carried: Readonly<Record<string, string | readonly [string, unknown]>>;
  /**
   * Fields that are not carried, each named by a warning or note: "Kind/name:path",
   * covering the fields below it. Must be exactly what the conversion leaves out.
   */
  readonly unconverted: readonly string[];
  /**
   * Fields whose value is what Herald does anyway and that no Herald field holds
   * ("Kind/name:path"), e.g. GoBGP's `passiveMode: false`: accounted as carried.
   */
  readonly defaults?: readonly string[];
  /** Objects ignored as a whole ("Kind/name"), with a note, because they are not configuration Herald has. */
  readonly ignored?: readonly string[];
}
