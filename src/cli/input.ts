// Reads Kubernetes objects from YAML or JSON files, directories and stdin, the way
// `kubectl apply -f` takes them: multi-document files, `kind: List`, directories one level.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CORE_SCHEMA, loadAll } from "js-yaml";
import { isPlainObject } from "../api/validation.ts";

export interface SourcedObject {
  readonly object: Record<string, unknown>;
  /** "file.yaml (document 2)", for messages. */
  readonly source: string;
}

export interface ReadResult {
  readonly objects: SourcedObject[];
  readonly problems: string[];
}

const MANIFEST = /\.(ya?ml|json)$/i;

export async function readObjects(
  paths: readonly string[],
  stdin: () => Promise<string>,
): Promise<ReadResult> {
  const objects: SourcedObject[] = [];
  const problems: string[] = [];
  for (const path of paths) {
    for (const file of await expand(path, problems)) {
      let text: string;
      try {
        text = file === "-" ? await stdin() : await readFile(file, "utf8");
      } catch (error) {
        problems.push(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
        continue;
      }
      parseText(text, file === "-" ? "stdin" : file, objects, problems);
    }
  }
  return { objects, problems };
}

async function expand(path: string, problems: string[]): Promise<string[]> {
  if (path === "-") return ["-"];
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    const names = (await readdir(path)).filter((name) => MANIFEST.test(name)).sort();
    return names.map((name) => join(path, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(
      `cannot read ${path}: ${code === "ENOENT" ? "no such file or directory" : (code ?? String(error))}`,
    );
    return [];
  }
}

function parseText(text: string, file: string, objects: SourcedObject[], problems: string[]): void {
  let documents: unknown[];
  try {
    // YAML 1.2 core schema: timestamps stay strings, as the API server keeps them.
    documents = loadAll(text, { schema: CORE_SCHEMA, filename: file });
  } catch (error) {
    problems.push(`${file}: not valid YAML: ${(error as Error).message}`);
    return;
  }
  documents.forEach((value, index) => {
    const source = documents.length > 1 ? `${file} (document ${index + 1})` : file;
    if (value === null || value === undefined) return;
    if (!isPlainObject(value)) {
      problems.push(
        `${source}: expected a Kubernetes object (a mapping with kind), found ${typeof value}`,
      );
      return;
    }
    if (
      typeof value.kind === "string" &&
      value.kind.endsWith("List") &&
      Array.isArray(value.items)
    ) {
      value.items.forEach((item: unknown, i: number) => {
        if (isPlainObject(item)) objects.push({ object: item, source: `${source} item ${i + 1}` });
        else problems.push(`${source} item ${i + 1}: expected a Kubernetes object`);
      });
      return;
    }
    objects.push({ object: value, source });
  });
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
