// `herald validate`: every problem in a set of Herald objects (and the Services, Namespaces
// and Secrets beside them), offline, with an exit code for CI. The checking is in
// src/validate/, the reading in input.ts; this file only wires them and prints.
import { exitCode, reportJson, reportText } from "../validate/report.ts";
import { validateDocuments } from "../validate/validate.ts";
import { readDocuments } from "./input.ts";
import type { CommandIO } from "./plan.ts";

export interface ValidateOptions {
  readonly files: readonly string[];
  readonly output: "text" | "json";
  /** Warnings fail too (exit 2). */
  readonly strict: boolean;
}

/** Runs the command; returns the exit code (0 valid, 1 errors, 2 warnings under --strict). */
export async function runValidate(options: ValidateOptions, io: CommandIO): Promise<number> {
  // Checking nothing must not pass: a CI job whose file list came out empty would go green.
  if (options.files.length === 0) {
    io.stderr("herald validate: nothing to check; give -f FILE, -f DIR or -f - (stdin)\n");
    return 1;
  }
  const documents = await readDocuments(options.files, io.stdin);
  const report = validateDocuments(documents);
  io.log.debug({ documents: documents.length, problems: report.problems.length }, "validated");
  io.stdout(options.output === "json" ? reportJson(report) : reportText(report));
  return exitCode(report, options.strict);
}
