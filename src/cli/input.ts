// Reads Kubernetes objects from YAML or JSON files, directories and stdin, the way
// `kubectl apply -f` takes them: multi-document files, `kind: List`, directories one level.
// Two readings of the same files: readObjects for commands that refuse bad input as a
// whole (plan, migrate), readDocuments for `herald validate`, which parses each document
// on its own so that one syntax error names its line and spares the other documents.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { CORE_SCHEMA, loadAll } from "js-yaml";
import { manifestObjects, parseManifests, type Document } from "../validate/manifests.ts";

export interface SourcedObject {
  readonly object: Record<string, unknown>;
  /** "file.yaml (document 2)", for messages. */
  readonly source: string;
}

export interface ReadResult {
  readonly objects: SourcedObject[];
  readonly problems: string[];
}

export async function readObjects(
  paths: readonly string[],
  stdin: () => Promise<string>,
): Promise<ReadResult> {
  const objects: SourcedObject[] = [];
  const problems: string[] = [];
  for (const file of await readFiles(paths, stdin)) {
    if ("error" in file) {
      problems.push(`cannot read ${file.name}: ${file.error}`);
      continue;
    }
    for (const document of parseWhole(file.text, file.name)) {
      if ("error" in document) problems.push(`${document.source}: ${document.error}`);
      else objects.push(document);
    }
  }
  return { objects, problems };
}

/** Every document of the input in order, objects and the reasons others are none. */
export async function readDocuments(
  paths: readonly string[],
  stdin: () => Promise<string>,
): Promise<Document[]> {
  return (await readFiles(paths, stdin)).flatMap((file) =>
    "error" in file
      ? [{ source: file.name, error: `cannot read: ${file.error}` }]
      : parseManifests(file.text, file.name),
  );
}

/** One file's text, or why it (or the directory it was to come from) cannot be read. */
type FileText =
  | { readonly name: string; readonly text: string }
  | { readonly name: string; readonly error: string };

const MANIFEST = /\.(ya?ml|json)$/i;

/** Files, directories (their manifests, one level, as kubectl -f) and - for stdin. */
async function readFiles(
  paths: readonly string[],
  stdin: () => Promise<string>,
): Promise<FileText[]> {
  const result: FileText[] = [];
  for (const path of paths) {
    let files: string[];
    try {
      files =
        path !== "-" && (await stat(path)).isDirectory()
          ? (await readdir(path))
              .filter((name) => MANIFEST.test(name))
              .sort()
              .map((name) => join(path, name))
          : [path];
    } catch (error) {
      result.push({ name: path, error: reason(error) });
      continue;
    }
    for (const file of files) {
      try {
        const text = file === "-" ? await stdin() : await readFile(file, "utf8");
        result.push({ name: file === "-" ? "stdin" : file, text });
      } catch (error) {
        result.push({ name: file, error: reason(error) });
      }
    }
  }
  return result;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  return code ?? (error as Error).message;
}

/** All of a file's documents, or only the error when any of them is not valid YAML. */
function parseWhole(text: string, file: string): Document[] {
  let values: unknown[];
  try {
    // YAML 1.2 core schema: timestamps stay strings, as the API server keeps them.
    values = loadAll(text, { schema: CORE_SCHEMA, filename: file });
  } catch (error) {
    return [{ source: file, error: `not valid YAML: ${(error as Error).message}` }];
  }
  return values.flatMap((value, index) =>
    manifestObjects(value, values.length > 1 ? `${file} (document ${index + 1})` : file),
  );
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
