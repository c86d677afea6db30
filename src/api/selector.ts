// Kubernetes label selectors (metav1.LabelSelector): matching and validation.
import { isDnsSubdomain, isPlainObject, unknownFields } from "./validation.ts";

export type Labels = Readonly<Record<string, string>>;

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** As in Kubernetes, an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const requirement of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, requirement.key);
    const value = labels[requirement.key];
    const listed = has && (requirement.values ?? []).includes(value!);
    switch (requirement.operator) {
      case "In":
        if (!listed) return false;
        break;
      case "NotIn":
        if (listed) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** Why a label key is invalid, or undefined when it is valid ("example.com/tier"). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = key.slice(slash + 1);
  if (prefix !== undefined && !isDnsSubdomain(prefix)) {
    return `label key "${key}" has an invalid prefix; it must be a DNS subdomain`;
  }
  if (!NAME_PART.test(name)) {
    return `label key "${key}" is invalid: at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === "" || NAME_PART.test(value)) return undefined;
  return `label value "${value}" is invalid: at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric`;
}

/** Every problem with a selector read from untrusted YAML, each prefixed with `path`. */
export function selectorProblems(value: unknown, path: string): string[] {
  if (!isPlainObject(value)) return [`${path}: must be a label selector object`];
  const problems = unknownFields(value, ["matchLabels", "matchExpressions"], path);
  const { matchLabels, matchExpressions } = value;
  if (matchLabels !== undefined) {
    if (!isPlainObject(matchLabels)) {
      problems.push(`${path}.matchLabels: must be a map of label keys to values`);
    } else {
      for (const [key, labelValue] of Object.entries(matchLabels)) {
        const keyProblem = labelKeyProblem(key);
        if (keyProblem) problems.push(`${path}.matchLabels: ${keyProblem}`);
        if (typeof labelValue !== "string") {
          problems.push(
            `${path}.matchLabels.${key}: must be a string (quote numbers and booleans)`,
          );
        } else {
          const valueProblem = labelValueProblem(labelValue);
          if (valueProblem) problems.push(`${path}.matchLabels.${key}: ${valueProblem}`);
        }
      }
    }
  }
  if (matchExpressions !== undefined) {
    if (!Array.isArray(matchExpressions)) {
      problems.push(`${path}.matchExpressions: must be a list`);
    } else {
      matchExpressions.forEach((requirement, i) =>
        problems.push(...requirementProblems(requirement, `${path}.matchExpressions[${i}]`)),
      );
    }
  }
  return problems;
}

function requirementProblems(value: unknown, path: string): string[] {
  if (!isPlainObject(value)) return [`${path}: must be an object with key, operator and values`];
  const { key, operator, values } = value;
  const problems: string[] = [];
  if (typeof key !== "string") problems.push(`${path}.key: required string`);
  else {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) problems.push(`${path}.key: ${keyProblem}`);
  }
  const valueList = values === undefined ? [] : values;
  if (!Array.isArray(valueList) || valueList.some((v) => typeof v !== "string")) {
    problems.push(`${path}.values: must be a list of strings`);
  }
  switch (operator) {
    case "In":
    case "NotIn":
      if (Array.isArray(valueList) && valueList.length === 0) {
        problems.push(`${path}.values: operator ${operator} needs at least one value`);
      }
      break;
    case "Exists":
    case "DoesNotExist":
      if (Array.isArray(valueList) && valueList.length > 0) {
        problems.push(`${path}.values: operator ${operator} takes no values`);
      }
      break;
    default:
      problems.push(`${path}.operator: must be In, NotIn, Exists or DoesNotExist`);
  }
  return problems;
}
