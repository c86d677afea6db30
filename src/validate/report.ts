// How `herald validate` prints its findings and what it exits with: one line per problem
// for people and grep, or JSON for tools, and an exit code CI can branch on.
import type { Problem } from "./problem.ts";
import type { ValidationReport } from "./validate.ts";

/** 0: no errors; 1: errors (or unreadable input); 2: only warnings, under --strict. */
export function exitCode(report: ValidationReport, strict: boolean): number {
  if (report.errors > 0) return 1;
  return strict && report.warnings > 0 ? 2 : 0;
}

/** `error: <source>: <Kind> "<name>": <field>: <message>`, leaving out the parts a problem lacks. */
export function problemLine(problem: Problem): string {
  const parts = [`${problem.severity}: ${problem.source}`];
  if (problem.kind !== "")
    parts.push(problem.name !== "" ? `${problem.kind} "${problem.name}"` : problem.kind);
  if (problem.field !== "") parts.push(problem.field);
  parts.push(problem.message);
  return parts.join(": ");
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

export function reportText(report: ValidationReport): string {
  const lines = report.problems.map(problemLine);
  const summary =
    report.problems.length === 0
      ? `${plural(report.documents, "document")} checked, no problems`
      : `${plural(report.errors, "error")}, ${plural(report.warnings, "warning")} in ${plural(report.documents, "document")}`;
  lines.push(summary);
  return lines.join("\n") + "\n";
}

/** `{"problems":[{severity,source,kind,name,field,message}],"errors":N,"warnings":N}`. */
export function reportJson(report: ValidationReport): string {
  return (
    JSON.stringify(
      {
        problems: report.problems.map(({ severity, source, kind, name, field, message }) => ({
          severity,
          source,
          kind,
          name,
          field,
          message,
        })),
        errors: report.errors,
        warnings: report.warnings,
      },
      null,
      2,
    ) + "\n"
  );
}
