// Server-side printing (meta.k8s.io/v1 Table): kubectl asks for it, and it is how
// printer columns such as `kubectl get pools` showing addresses and usage reach the screen.
import { JSONPath } from "jsonpath-plus";
import type { PrinterColumn, ResourceType } from "./resources.ts";
import type { KubeObject } from "./store.ts";

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept);
}

export function table(
  type: ResourceType,
  objects: KubeObject[],
  resourceVersion: string,
): Record<string, unknown> {
  const columns = [
    {
      name: "Name",
      type: "string",
      format: "name",
      description: "Name of the object",
      priority: 0,
    },
    ...type.printerColumns.map((column) => ({
      name: column.name,
      type: column.type === "date" ? "string" : column.type,
      format: column.format ?? "",
      description: column.description ?? "",
      priority: column.priority ?? 0,
    })),
  ];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: columns,
    rows: objects.map((object) => ({
      cells: [object.metadata.name, ...type.printerColumns.map((column) => cell(column, object))],
      object: {
        kind: "PartialObjectMetadata",
        apiVersion: "meta.k8s.io/v1",
        metadata: object.metadata,
      },
    })),
  };
}

function cell(column: PrinterColumn, object: KubeObject): unknown {
  const path = column.jsonPath.startsWith("$") ? column.jsonPath : `$${column.jsonPath}`;
  const found = JSONPath({ path, json: object, wrap: true }) as unknown[];
  if (found.length === 0) return column.type === "string" || column.type === "date" ? "" : null;
  if (column.type === "date") return age(String(found[0]));
  // Several matches (a [*] path) are joined; one list or object is printed as JSON, as
  // the API server prints `.spec.addresses`.
  if (found.length > 1)
    return found.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(",");
  const value = found[0];
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return value;
}

/** "42s", "5m", "3h", "2d", as kubectl prints ages. */
export function age(timestamp: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (Number.isNaN(seconds)) return "<unknown>";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
