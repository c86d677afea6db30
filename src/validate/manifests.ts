// Manifest text into documents, one YAML document at a time: a syntax error names its
// file, document and line, and the other documents of the file are still checked (a
// single loadAll would stop at the first error and lose the rest). src/cli/input.ts reads
// files with it for `herald validate`, and takes objects out of its whole-file parses (for
// plan and migrate) with manifestObjects.
import { CORE_SCHEMA, load, YAMLException } from "js-yaml";
import { isPlainObject } from "../api/validation.ts";

/** One object to check, or one document that is not an object. */
export type Document =
  | { readonly source: string; readonly object: Record<string, unknown> }
  | { readonly source: string; readonly error: string };

interface Chunk {
  /** Line (0-based) the document's text starts on. */
  readonly firstLine: number;
  readonly lines: readonly string[];
}

// "---" starts a document and "..." ends one; at column 0 they cannot be content, because
// a block scalar's lines are indented below their key.
const DOCUMENT_START = /^---(?:\s|$)/;
const DOCUMENT_END = /^\.\.\.\s*$/;
const CONTENT = /^\s*[^\s#]/;

function splitDocuments(text: string): Chunk[] {
  const lines = text.split(/\r?\n/);
  const chunks: Chunk[] = [];
  let start = 0;
  const close = (end: number) => {
    const chunkLines = lines.slice(start, end);
    // The marker itself is no content, though "--- {a: 1}" has some after it.
    const content = chunkLines.map((line, i) =>
      i === 0 ? line.replace(DOCUMENT_START, " ") : line,
    );
    if (content.some((line) => CONTENT.test(line))) {
      chunks.push({ firstLine: start, lines: chunkLines });
    }
  };
  lines.forEach((line, i) => {
    if (DOCUMENT_START.test(line)) {
      close(i);
      start = i;
    } else if (DOCUMENT_END.test(line)) {
      close(i);
      start = i + 1;
    }
  });
  close(lines.length);
  return chunks;
}

/** Parses a YAML or JSON manifest; `file` names it in sources ("stdin" for -). */
export function parseManifests(text: string, file: string): Document[] {
  const chunks = splitDocuments(text);
  return chunks.flatMap((chunk, index) => {
    const source = chunks.length > 1 ? `${file} (document ${index + 1})` : file;
    let value: unknown;
    try {
      // Blank lines in front keep js-yaml's line numbers those of the file. YAML 1.2 core
      // schema: timestamps stay strings, as the API server keeps them.
      value = load("\n".repeat(chunk.firstLine) + chunk.lines.join("\n"), {
        schema: CORE_SCHEMA,
        filename: file,
      });
    } catch (error) {
      return [{ source, error: `not valid YAML: ${syntaxMessage(error)}` }];
    }
    return manifestObjects(value, source);
  });
}

/**
 * The objects of one parsed document: itself, or the items of a `kind: List` (as kubectl
 * takes them); none for an empty document, an error for anything that is not an object.
 */
export function manifestObjects(value: unknown, source: string): Document[] {
  if (value === null || value === undefined) return [];
  if (!isPlainObject(value)) {
    return [
      {
        source,
        error: `expected a Kubernetes object (a mapping with apiVersion and kind), found ${Array.isArray(value) ? "a list" : typeof value}`,
      },
    ];
  }
  if (typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
    return value.items.map((item: unknown, i: number) => {
      const itemSource = `${source} item ${i + 1}`;
      return isPlainObject(item)
        ? { source: itemSource, object: item }
        : { source: itemSource, error: "expected a Kubernetes object" };
    });
  }
  return [{ source, object: value }];
}

function syntaxMessage(error: unknown): string {
  if (error instanceof YAMLException && error.mark) {
    return `${error.reason} at line ${error.mark.line + 1}, column ${error.mark.column + 1}`;
  }
  return error instanceof Error ? error.message.split("\n")[0]! : String(error);
}
