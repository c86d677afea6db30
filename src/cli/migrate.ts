// `herald migrate`: reads a peer's configuration (MetalLB, PureLB, OpenELB, Cilium) and
// prints the equivalent Herald objects; what has no equivalent is said on stderr.
import { dump } from "js-yaml";
import { formatFinding } from "../migrate/findings.ts";
import { migrate, type PeerName } from "../migrate/migrate.ts";
import type { HeraldObject } from "../migrate/output.ts";
import { readObjects } from "./input.ts";
import type { CommandIO } from "./plan.ts";

export interface MigrateOptions {
  readonly files: readonly string[];
  readonly from: PeerName;
  readonly output: "yaml" | "json";
  /** Exit 2 when anything was not converted exactly. */
  readonly strict: boolean;
}

/** 0 converted, 1 unreadable input or nothing of the peer, 2 warnings under --strict. */
export async function runMigrate(options: MigrateOptions, io: CommandIO): Promise<number> {
  const read = await readObjects(options.files, io.stdin);
  if (read.problems.length > 0) {
    for (const problem of read.problems) io.stderr(`error: ${problem}\n`);
    io.stderr("herald migrate: the input could not be read; nothing converted\n");
    return 1;
  }
  const result = migrate(options.from, read.objects);
  for (const finding of result.findings) io.stderr(`${formatFinding(finding)}\n`);
  if (result.claimed === 0) {
    io.stderr(
      `herald migrate: the input holds no ${result.title} configuration (${read.objects.length} object${read.objects.length === 1 ? "" : "s"} read); nothing converted\n`,
    );
    return 1;
  }
  io.stdout(
    options.output === "json"
      ? jsonList(result.objects)
      : yamlDocuments(result.objects, result.title),
  );
  const warnings = result.findings.filter((f) => f.severity === "warning").length;
  const notes = result.findings.length - warnings;
  io.stderr(
    `herald migrate: ${result.objects.length} object${result.objects.length === 1 ? "" : "s"} written from ${result.claimed} ${result.title} object${result.claimed === 1 ? "" : "s"}; ${warnings} warning${warnings === 1 ? "" : "s"}, ${notes} note${notes === 1 ? "" : "s"}\n`,
  );
  return options.strict && warnings > 0 ? 2 : 0;
}

/** A kind: List, which `kubectl apply -f` takes like a multi-document file. */
export function jsonList(objects: readonly HeraldObject[]): string {
  const items = objects.map((item) => item.object);
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items }, null, 2)}\n`;
}

/** Multi-document YAML; each document led by the comments that explain it. */
export function yamlDocuments(objects: readonly HeraldObject[], title: string): string {
  const header = `# Converted from ${title} by herald migrate. Read the warnings it printed before applying.\n`;
  const documents = objects.map((item) => {
    const comments = item.comments
      .flatMap((comment) => wrap(comment, 88))
      .map((line) => `# ${line}\n`);
    // JSON first: drops undefined fields, which js-yaml would refuse to write.
    const plain = JSON.parse(JSON.stringify(item.object)) as unknown;
    return `---\n${comments.join("")}${dump(plain, { lineWidth: -1, noRefs: true })}`;
  });
  return header + documents.join("");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
