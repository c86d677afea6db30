// Reads the fields of a peer's object, which is untrusted YAML: every read checks the type
// and records the field as handled, so that whatever no converter read can be reported at
// the end instead of being dropped without a word.
import { selectorProblems, type LabelSelector } from "../api/selector.ts";
import { isPlainObject } from "../api/validation.ts";
import type { Findings, Origin } from "./findings.ts";

interface Shared {
  readonly origin: Origin;
  readonly findings: Findings;
  /** Full paths of fields a converter has read (or knowingly skipped). */
  readonly consumed: Set<string>;
  /** Objects and list items a converter went into: their own fields are checked one by one. */
  readonly entered: Set<string>;
}

export interface IntegerLimits {
  readonly min?: number;
  readonly max?: number;
  /** Also take "90": GoBGP-style APIs (OpenELB) carry numbers as strings. */
  readonly fromString?: boolean;
}

export class FieldReader {
  readonly #root: Record<string, unknown>;
  readonly #shared: Shared;
  /** Path of this object from the top, "spec" or "spec.neighbors[2]". */
  readonly base: string;

  /** Below the top object: messages about this reader name its path. */
  readonly #nested: boolean;

  private constructor(
    root: Record<string, unknown>,
    base: string,
    shared: Shared,
    nested: boolean,
  ) {
    this.#root = root;
    this.base = base;
    this.#shared = shared;
    this.#nested = nested;
  }

  /** A reader of `root` (usually an object's spec), whose fields are named from `base`. */
  static of(root: unknown, base: string, origin: Origin, findings: Findings): FieldReader {
    const shared = { origin, findings, consumed: new Set<string>(), entered: new Set<string>() };
    return new FieldReader(isPlainObject(root) ? root : {}, base, shared, false);
  }

  get origin(): Origin {
    return this.#shared.origin;
  }

  get findings(): Findings {
    return this.#shared.findings;
  }

  path(field: string): string {
    return this.base ? `${this.base}.${field}` : field;
  }

  has(field: string): boolean {
    const value = this.#root[field];
    return value !== undefined && value !== null;
  }

  /** A warning about one field of this object, or about the object itself. */
  warn(field: string | undefined, message: string): void {
    this.findings.warn(this.origin, this.#where(field), message);
  }

  note(field: string | undefined, message: string): void {
    this.findings.note(this.origin, this.#where(field), message);
  }

  /** Reports a field only when it is true: false is what Herald does anyway. */
  unsupportedIfTrue(field: string, instead: string): void {
    if (this.boolean(field)) this.warn(field, `true has no Herald equivalent; ${instead}`);
  }

  /** The field's path; for the object itself none at the top ("spec"), the path below it. */
  #where(field: string | undefined): string | undefined {
    if (field !== undefined) return this.path(field);
    return this.#nested ? this.base : undefined;
  }

  /**
   * Reports that this object (or list item) is left out as a whole: the finding names its
   * path, so that it accounts for every field below, and nothing below is reported again.
   */
  leaveOut(message: string, severity: "warning" | "note" = "warning"): void {
    this.#shared.consumed.add(this.base);
    if (severity === "warning") this.findings.warn(this.origin, this.base || undefined, message);
    else this.findings.note(this.origin, this.base || undefined, message);
  }

  /** Marks a field as handled without reading it (its meaning is Herald's default). */
  consume(field: string): void {
    this.#shared.consumed.add(this.path(field));
  }

  /** Reports a present field that Herald cannot express; `instead` says what Herald does. */
  unsupported(field: string, instead: string): boolean {
    if (!this.has(field)) return false;
    this.consume(field);
    this.warn(field, `has no Herald equivalent; ${instead}`);
    return true;
  }

  /** The field as it is, for values of several shapes; the caller checks it. */
  value(field: string): unknown {
    return this.#take(field);
  }

  string(field: string): string | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    if (typeof value === "string") return value;
    this.warn(field, `must be a string, found ${describe(value)}; ignored`);
    return undefined;
  }

  boolean(field: string): boolean | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    this.warn(field, `must be true or false, found ${describe(value)}; ignored`);
    return undefined;
  }

  integer(field: string, limits: IntegerLimits = {}): number | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    const number =
      typeof value === "number"
        ? value
        : limits.fromString && typeof value === "string" && /^\d+$/.test(value.trim())
          ? Number(value)
          : Number.NaN;
    if (!Number.isInteger(number)) {
      this.warn(field, `must be a whole number, found ${describe(value)}; ignored`);
      return undefined;
    }
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = limits;
    if (number < min || number > max) {
      this.warn(field, `${number} is outside ${min}…${max}; ignored`);
      return undefined;
    }
    return number;
  }

  strings(field: string): string[] | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.warn(field, `must be a list of strings, found ${describe(value)}; ignored`);
      return undefined;
    }
    const result: string[] = [];
    value.forEach((item, i) => {
      if (typeof item === "string") result.push(item);
      else this.warn(`${field}[${i}]`, `must be a string, found ${describe(item)}; ignored`);
    });
    return result;
  }

  /** A map of strings to strings (labels), e.g. OpenELB's `namespaceSelector`. */
  stringMap(field: string): Record<string, string> | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) {
      this.warn(field, `must be a map of strings, found ${describe(value)}; ignored`);
      return undefined;
    }
    const result: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      // YAML reads `tier: 1` as a number; Kubernetes would refuse it, the peer would too.
      if (typeof item === "string") result[key] = item;
      else this.warn(`${field}.${key}`, `must be a string, found ${describe(item)}; ignored`);
    }
    return result;
  }

  /** A metav1.LabelSelector, checked as the API server would check it. */
  selector(field: string): LabelSelector | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    return this.validSelector(value, field);
  }

  selectors(field: string): LabelSelector[] | undefined {
    const value = this.#take(field);
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      this.warn(field, `must be a list of label selectors, found ${describe(value)}; ignored`);
      return undefined;
    }
    const result: LabelSelector[] = [];
    value.forEach((item, i) => {
      const selector = this.validSelector(item, `${field}[${i}]`);
      if (selector) result.push(selector);
    });
    return result;
  }

  /** The reader of a nested object; its fields are accounted for one by one. */
  child(field: string): FieldReader | undefined {
    if (!this.has(field)) return undefined;
    const value = this.#root[field];
    if (!isPlainObject(value)) {
      this.consume(field);
      this.warn(field, `must be an object, found ${describe(value)}; ignored`);
      return undefined;
    }
    const path = this.path(field);
    this.#shared.entered.add(path);
    return new FieldReader(value, path, this.#shared, true);
  }

  /** Readers of the objects of a list, e.g. a BGP policy's neighbors. */
  items(field: string): FieldReader[] | undefined {
    if (!this.has(field)) return undefined;
    const value = this.#root[field];
    if (!Array.isArray(value)) {
      this.consume(field);
      this.warn(field, `must be a list, found ${describe(value)}; ignored`);
      return undefined;
    }
    const path = this.path(field);
    this.#shared.entered.add(path);
    const result: FieldReader[] = [];
    value.forEach((item, i) => {
      const itemPath = `${path}[${i}]`;
      if (isPlainObject(item)) {
        this.#shared.entered.add(itemPath);
        result.push(new FieldReader(item, itemPath, this.#shared, true));
      } else {
        this.#shared.consumed.add(itemPath);
        this.findings.warn(
          this.origin,
          itemPath,
          `must be an object, found ${describe(item)}; ignored`,
        );
      }
    });
    return result;
  }

  /** Reports every field below this reader that nothing read: each is left out of the output. */
  finish(): void {
    if (this.#shared.consumed.has(this.base)) return;
    this.#reportUnread(this.#root, this.base);
  }

  #take(field: string): unknown {
    if (!this.has(field)) return undefined;
    this.consume(field);
    return this.#root[field];
  }

  /** `value` if it is a valid label selector; else warnings about `field`, and undefined. */
  validSelector(value: unknown, field?: string): LabelSelector | undefined {
    const problems = selectorProblems(value, field === undefined ? this.base : this.path(field));
    if (problems.length > 0) {
      for (const problem of problems) this.findings.warn(this.origin, undefined, problem);
      this.warn(field, "is not a valid label selector; ignored");
      return undefined;
    }
    return value as LabelSelector;
  }

  #reportUnread(value: Record<string, unknown>, path: string): void {
    const { consumed, entered } = this.#shared;
    for (const [key, child] of Object.entries(value)) {
      if (child === undefined || child === null) continue;
      const childPath = path ? `${path}.${key}` : key;
      if (consumed.has(childPath)) continue;
      if (isPlainObject(child) && entered.has(childPath)) {
        this.#reportUnread(child, childPath);
      } else if (Array.isArray(child) && entered.has(childPath)) {
        child.forEach((item, i) => {
          const itemPath = `${childPath}[${i}]`;
          if (consumed.has(itemPath)) return;
          if (isPlainObject(item) && entered.has(itemPath)) this.#reportUnread(item, itemPath);
          else this.#unknown(itemPath);
        });
      } else {
        this.#unknown(childPath);
      }
    }
  }

  #unknown(path: string): void {
    this.findings.warn(
      this.origin,
      path,
      "is not a field this migration knows; it was left out (see docs/migration.md)",
    );
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (isPlainObject(value)) return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}
