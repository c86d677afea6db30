// The CEL environment of a Kubernetes API server's CRD validation rules: the standard
// library cel-js provides, plus the Kubernetes extensions (IP and CIDR types, the strings,
// regex and lists libraries). Only functions a real API server (v1.31+) offers are
// registered, so a rule that compiles here also compiles there.
import { Environment, type ParseResult } from "@marcbachmann/cel-js";
import { formatAddress, parseAddress, type Address } from "../ip.ts";

/** A net.IP value. */
export class CelIP {
  readonly address: Address;
  constructor(address: Address) {
    this.address = address;
  }
  toString(): string {
    return formatAddress(this.address);
  }
}

/** A net.CIDR value: an address and a prefix length; the address may have host bits set. */
export class CelCIDR {
  readonly ip: CelIP;
  readonly prefixLength: number;
  constructor(ip: CelIP, prefixLength: number) {
    this.ip = ip;
    this.prefixLength = prefixLength;
  }
  toString(): string {
    return `${this.ip.toString()}/${this.prefixLength}`;
  }
}

/** Stands for the `ip` in `ip.isCanonical(...)`, which Kubernetes names as a namespace. */
class IPNamespace {}

const bits = (address: Address) => (address.family === "IPv4" ? 32 : 128);

/** The address, or why Kubernetes' ip() refuses it (netip.ParseAddr, no zones, no 4-in-6). */
function parseIP(text: string): Address | string {
  if (text.includes("%")) return `IP address with zone value is not allowed: "${text}"`;
  const address = parseAddress(text);
  if (!address) return `IP Address "${text}" parse error during conversion from string`;
  if (address.family === "IPv6" && address.value >> 32n === 0xffffn) {
    return `IPv4-mapped IPv6 address is not allowed: "${text}"`;
  }
  return address;
}

function parseCIDR(text: string): CelCIDR | string {
  const parts = text.split("/");
  const problem = `network address "${text}" parse error during conversion from string`;
  if (parts.length !== 2) return problem;
  const address = parseIP(parts[0]!);
  if (typeof address === "string") return problem;
  const length = parts[1]!;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(length) || Number(length) > bits(address)) return problem;
  return new CelCIDR(new CelIP(address), Number(length));
}

function ipOrThrow(text: string): CelIP {
  const address = parseIP(text);
  if (typeof address === "string") throw new Error(address);
  return new CelIP(address);
}

function cidrOrThrow(text: string): CelCIDR {
  const cidr = parseCIDR(text);
  if (typeof cidr === "string") throw new Error(cidr);
  return cidr;
}

function masked(cidr: CelCIDR): CelCIDR {
  const { family, value } = cidr.ip.address;
  const hostBits = BigInt(bits(cidr.ip.address) - cidr.prefixLength);
  return new CelCIDR(
    new CelIP({ family, value: (value >> hostBits) << hostBits }),
    cidr.prefixLength,
  );
}

function containsIP(cidr: CelCIDR, ip: CelIP): boolean {
  if (ip.address.family !== cidr.ip.address.family) return false;
  const hostBits = BigInt(bits(ip.address) - cidr.prefixLength);
  return ip.address.value >> hostBits === cidr.ip.address.value >> hostBits;
}

function containsCIDR(cidr: CelCIDR, other: CelCIDR): boolean {
  return other.prefixLength >= cidr.prefixLength && containsIP(cidr, other.ip);
}

function sameIP(a: CelIP, b: CelIP): boolean {
  return a.address.family === b.address.family && a.address.value === b.address.value;
}

// Address classes as Go's net/netip defines them, which is what Kubernetes calls.
function inPrefix(ip: CelIP, family: Address["family"], network: bigint, length: number): boolean {
  if (ip.address.family !== family) return false;
  const hostBits = BigInt((family === "IPv4" ? 32 : 128) - length);
  return ip.address.value >> hostBits === network >> hostBits;
}
const isLoopback = (ip: CelIP) =>
  inPrefix(ip, "IPv4", 0x7f000000n, 8) || inPrefix(ip, "IPv6", 1n, 128);
const isUnspecified = (ip: CelIP) => ip.address.value === 0n;
const isMulticast = (ip: CelIP) =>
  inPrefix(ip, "IPv4", 0xe0000000n, 4) || inPrefix(ip, "IPv6", 0xffn << 120n, 8);
const isLinkLocalMulticast = (ip: CelIP) =>
  inPrefix(ip, "IPv4", 0xe0000000n, 24) || inPrefix(ip, "IPv6", 0xff02n << 112n, 16);
const isLinkLocalUnicast = (ip: CelIP) =>
  inPrefix(ip, "IPv4", 0xa9fe0000n, 16) || inPrefix(ip, "IPv6", 0xfe80n << 112n, 10);
const isGlobalUnicast = (ip: CelIP) =>
  !isUnspecified(ip) &&
  !isLoopback(ip) &&
  !isMulticast(ip) &&
  !isLinkLocalUnicast(ip) &&
  !(ip.address.family === "IPv4" && ip.address.value === 0xffffffffn);

/** RE2 and JavaScript agree on the patterns rules use; an invalid one is an evaluation error. */
function regex(pattern: string, flags = ""): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch {
    throw new Error(`invalid regular expression: ${pattern}`);
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  const x = a as number | bigint;
  const y = b as number | bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}

function extreme(list: unknown[], sign: number): unknown {
  if (list.length === 0) throw new Error("min/max of an empty list");
  return list.reduce((best, item) => (compare(item, best) * sign > 0 ? item : best));
}

function equalValues(a: unknown, b: unknown): boolean {
  if (a instanceof CelIP && b instanceof CelIP) return sameIP(a, b);
  return a === b || (typeof a !== "object" && compare(a, b) === 0 && typeof a === typeof b);
}

function buildEnvironment(): Environment {
  const env = new Environment({ enableOptionalTypes: true })
    .registerType("net.IP", CelIP)
    .registerType("net.CIDR", CelCIDR)
    .registerType("k8s.IPNamespace", IPNamespace)
    .registerConstant("ip", "k8s.IPNamespace", new IPNamespace())
    .registerVariable("self", "dyn")
    .registerVariable("oldSelf", "dyn");

  // IP library.
  env
    .registerFunction("isIP(string): bool", (text: string) => typeof parseIP(text) !== "string")
    .registerFunction("ip(string): net.IP", ipOrThrow)
    .registerFunction(
      "k8s.IPNamespace.isCanonical(string): bool",
      (_: IPNamespace, text: string) => ipOrThrow(text).toString() === text,
    )
    .registerFunction("net.IP.family(): int", (ip: CelIP) =>
      ip.address.family === "IPv4" ? 4n : 6n,
    )
    .registerFunction("net.IP.isUnspecified(): bool", isUnspecified)
    .registerFunction("net.IP.isLoopback(): bool", isLoopback)
    .registerFunction("net.IP.isLinkLocalMulticast(): bool", isLinkLocalMulticast)
    .registerFunction("net.IP.isLinkLocalUnicast(): bool", isLinkLocalUnicast)
    .registerFunction("net.IP.isGlobalUnicast(): bool", isGlobalUnicast)
    .registerFunction("string(net.IP): string", (ip: CelIP) => ip.toString())
    // cel-js derives != from ==.
    .registerOperator("net.IP == net.IP", sameIP);

  // CIDR library.
  env
    .registerFunction("isCIDR(string): bool", (text: string) => typeof parseCIDR(text) !== "string")
    .registerFunction("cidr(string): net.CIDR", cidrOrThrow)
    .registerFunction("net.CIDR.containsIP(net.IP): bool", containsIP)
    .registerFunction("net.CIDR.containsIP(string): bool", (cidr: CelCIDR, text: string) =>
      containsIP(cidr, ipOrThrow(text)),
    )
    .registerFunction("net.CIDR.containsCIDR(net.CIDR): bool", containsCIDR)
    .registerFunction("net.CIDR.containsCIDR(string): bool", (cidr: CelCIDR, text: string) =>
      containsCIDR(cidr, cidrOrThrow(text)),
    )
    .registerFunction("net.CIDR.ip(): net.IP", (cidr: CelCIDR) => cidr.ip)
    .registerFunction("net.CIDR.masked(): net.CIDR", masked)
    .registerFunction("net.CIDR.prefixLength(): int", (cidr: CelCIDR) => BigInt(cidr.prefixLength))
    .registerFunction("string(net.CIDR): string", (cidr: CelCIDR) => cidr.toString())
    .registerOperator(
      "net.CIDR == net.CIDR",
      (a: CelCIDR, b: CelCIDR) => a.prefixLength === b.prefixLength && sameIP(a.ip, b.ip),
    );

  // The parts of cel-go's strings extension that cel-js lacks.
  env
    .registerFunction("string.charAt(int): string", (text: string, index: bigint) => {
      const chars = [...text];
      if (index < 0n || index > BigInt(chars.length)) throw new Error("index out of range");
      return chars[Number(index)] ?? "";
    })
    .registerFunction(
      "string.replace(string, string): string",
      (text: string, a: string, b: string) => text.replaceAll(a, b),
    )
    .registerFunction(
      "string.replace(string, string, int): string",
      (text: string, a: string, b: string, n: bigint) => {
        let result = text;
        let from = 0;
        for (let i = 0n; n < 0n || i < n; i++) {
          const at = result.indexOf(a, from);
          if (at < 0) break;
          result = result.slice(0, at) + b + result.slice(at + a.length);
          from = at + b.length;
        }
        return result;
      },
    )
    .registerFunction("string.reverse(): string", (text: string) => [...text].reverse().join(""));

  // Kubernetes regex library.
  env
    .registerFunction(
      "string.find(string): string",
      (text: string, pattern: string) => text.match(regex(pattern))?.[0] ?? "",
    )
    .registerFunction("string.findAll(string): list<string>", (text: string, pattern: string) =>
      [...text.matchAll(regex(pattern, "g"))].map((match) => match[0]),
    )
    .registerFunction(
      "string.findAll(string, int): list<string>",
      (text: string, pattern: string, limit: bigint) => {
        const all = [...text.matchAll(regex(pattern, "g"))].map((match) => match[0]);
        return limit < 0n ? all : all.slice(0, Number(limit));
      },
    );

  // Kubernetes lists library.
  env
    .registerFunction("list.isSorted(): bool", (list: unknown[]) =>
      list.every((item, i) => i === 0 || compare(list[i - 1], item) <= 0),
    )
    .registerFunction("list.sum(): dyn", (list: unknown[]) =>
      list.reduce<number | bigint>(
        (sum, item) =>
          typeof item === "bigint" && typeof sum === "bigint"
            ? sum + item
            : Number(sum) + Number(item),
        typeof list[0] === "number" ? 0 : 0n,
      ),
    )
    .registerFunction("list.min(): dyn", (list: unknown[]) => extreme(list, -1))
    .registerFunction("list.max(): dyn", (list: unknown[]) => extreme(list, 1))
    .registerFunction("list.indexOf(dyn): int", (list: unknown[], value: unknown) =>
      BigInt(list.findIndex((item) => equalValues(item, value))),
    )
    .registerFunction("list.lastIndexOf(dyn): int", (list: unknown[], value: unknown) =>
      BigInt(list.findLastIndex((item) => equalValues(item, value))),
    );
  return env;
}

const environment = buildEnvironment();

export interface CompiledExpression {
  /** Evaluates with `self` (and `oldSelf` when the rule uses it) bound. */
  readonly evaluate: ParseResult;
  readonly usesOldSelf: boolean;
  /** The result type the checker inferred: "bool", "string", "dyn", … */
  readonly type: string;
  /** Field selections made directly on self, e.g. [["spec", "x"]] for self.spec.x. */
  readonly selfPaths: string[][];
}

/** Parses and type-checks an expression once; problems are a sentence. */
export function compileExpression(expression: string): CompiledExpression | { error: string } {
  let parsed: ParseResult;
  try {
    parsed = environment.parse(expression);
  } catch (error) {
    return { error: firstLine(error) };
  }
  const checked = parsed.check();
  if (!checked.valid) return { error: firstLine(checked.error) };
  const selfPaths: string[][] = [];
  let usesOldSelf = false;
  walk(parsed.ast, (node) => {
    if (node.op === "id" && node.args === "oldSelf") usesOldSelf = true;
    if (node.op === ".") {
      const path = selectionPath(node);
      if (path) selfPaths.push(path);
    }
  });
  return { evaluate: parsed, usesOldSelf, type: checked.type ?? "dyn", selfPaths };
}

interface AstNode {
  op: string;
  args: unknown;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null && "op" in value && "args" in value;
}

function walk(node: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (!isNode(node)) return;
  visit(node);
  walk(node.args, visit);
}

/** ["a", "b"] for self.a.b (the whole chain, seen from its outermost selection). */
function selectionPath(node: AstNode): string[] | undefined {
  const names: string[] = [];
  let current: unknown = node;
  while (isNode(current) && current.op === ".") {
    const [base, field] = current.args as [unknown, string];
    names.unshift(field);
    current = base;
  }
  return isNode(current) && current.op === "id" && current.args === "self" ? names : undefined;
}

/** The first line of an error: cel-js appends the source with a caret below it. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.trim();
}
