import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Problem } from "./problem.ts";
import { exitCode, problemLine, reportJson, reportText } from "./report.ts";
import type { ValidationReport } from "./validate.ts";

const error: Problem = {
  severity: "error",
  source: "pools.yaml (document 2)",
  kind: "AddressPool",
  name: "lan",
  field: "spec.addresses[0]",
  message: "Invalid value",
};
const warning: Problem = { ...error, severity: "warning", field: "", message: "careful" };
const syntax: Problem = { ...error, kind: "", name: "", field: "", message: "not valid YAML" };

const report = (problems: Problem[]): ValidationReport => ({
  problems,
  errors: problems.filter((p) => p.severity === "error").length,
  warnings: problems.filter((p) => p.severity === "warning").length,
  documents: 3,
});

describe("report", () => {
  it("prints one line per problem, leaving out the parts a problem lacks", () => {
    assert.equal(
      problemLine(error),
      'error: pools.yaml (document 2): AddressPool "lan": spec.addresses[0]: Invalid value',
    );
    assert.equal(
      problemLine(warning),
      'warning: pools.yaml (document 2): AddressPool "lan": careful',
    );
    assert.equal(problemLine(syntax), "error: pools.yaml (document 2): not valid YAML");
  });

  it("ends the text with a summary", () => {
    assert.match(reportText(report([error, warning])), /\n1 error, 1 warning in 3 documents\n$/);
    assert.equal(reportText(report([])), "3 documents checked, no problems\n");
  });

  it("prints JSON with exactly the documented fields", () => {
    assert.deepEqual(JSON.parse(reportJson(report([error]))), {
      problems: [
        {
          severity: "error",
          source: "pools.yaml (document 2)",
          kind: "AddressPool",
          name: "lan",
          field: "spec.addresses[0]",
          message: "Invalid value",
        },
      ],
      errors: 1,
      warnings: 0,
    });
  });

  it("exits 1 on errors, 2 on warnings only under --strict, else 0", () => {
    assert.equal(exitCode(report([error, warning]), false), 1);
    assert.equal(exitCode(report([warning]), false), 0);
    assert.equal(exitCode(report([warning]), true), 2);
    assert.equal(exitCode(report([]), true), 0);
  });
});
