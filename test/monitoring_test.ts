// deploy/monitoring/ and docs/monitoring.md against the metrics the code registers: every
// metric an alert or a dashboard panel reads exists (with the labels it matches on), the
// rules pass `promtool check rules` and their unit tests (`promtool test rules`), every
// panel's query parses, and the documentation lists every metric. Needs promtool on PATH
// (scripts/test.sh installs Debian's prometheus package where it is missing).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { AgentMetrics } from "../src/agent/metrics.ts";
import { ControllerMetrics } from "../src/controller/metrics.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-monitoring-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ALERTS = "deploy/monitoring/alerts.yaml";
const ALERT_TESTS = "deploy/monitoring/alerts_test.yaml";
const DASHBOARD = "deploy/monitoring/dashboard.json";
const DOC = "docs/monitoring.md";

// ---- what the code registers ----

interface Registered {
  name: string;
  type: string;
  labels: string[];
  component: "controller" | "agent";
  /** prom-client's process and Node.js metrics, not Herald's own. */
  builtIn: boolean;
}

async function registered(): Promise<Map<string, Registered>> {
  const controller = new ControllerMetrics(true);
  const agent = new AgentMetrics(true);
  // The detector's gauges exist once the agent has a detector; register them as it does.
  agent.watchDetector(() => undefined);
  const all = new Map<string, Registered>();
  for (const [component, registry] of [
    ["controller", controller.registry],
    ["agent", agent.registry],
  ] as const) {
    const types = new Map(
      (await registry.getMetricsAsJSON()).map((metric) => [metric.name, String(metric.type)]),
    );
    for (const metric of registry.getMetricsAsArray()) {
      const name = metric.name;
      all.set(name, {
        name,
        type: types.get(name) ?? "unknown",
        labels: [...((metric as { labelNames?: readonly string[] }).labelNames ?? [])],
        component,
        builtIn: /^(herald_)?(process|nodejs)_/.test(name),
      });
    }
    registry.clear();
  }
  return all;
}

let metrics: Map<string, Registered>;
before(async () => {
  metrics = await registered();
});

/** The registered metric a series name belongs to: itself, or a histogram's _bucket/_sum/_count. */
function metricOf(series: string): Registered | undefined {
  const direct = metrics.get(series);
  if (direct) return direct;
  const suffix = /_(bucket|sum|count)$/.exec(series);
  const histogram = suffix ? metrics.get(series.slice(0, suffix.index)) : undefined;
  return histogram?.type === "histogram" ? histogram : undefined;
}

// ---- the metric names a PromQL expression reads ----

const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);

interface Selector {
  metric: string;
  /** Label names its matchers use. */
  labels: string[];
}

/** Grafana's variables become what Prometheus would see once Grafana has filled them in. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__\w+/g, "5m").replace(/\$\{?\w+\}?/g, ".*");
}

function selectors(raw: string): Selector[] {
  let expr = withoutGrafanaVariables(raw)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''");
  const found: Selector[] = [];
  expr = expr.replace(
    /([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g,
    (_, metric: string, matchers: string) => {
      const labels = matchers
        .split(",")
        .map((m) => /^\s*([a-zA-Z_]\w*)/.exec(m)?.[1])
        .filter((l): l is string => l !== undefined);
      found.push({ metric, labels });
      return " ";
    },
  );
  expr = expr
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  for (const match of expr.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = match[0];
    const before = expr[match.index - 1] ?? " ";
    const after = expr.slice(match.index + word.length);
    if (/[\d.]/.test(before) || KEYWORDS.has(word) || /^\s*\(/.test(after)) continue;
    found.push({ metric: word, labels: [] });
  }
  return found;
}

/** Labels a series may carry besides the metric's own: the scrape's, and a histogram's le. */
const TARGET_LABELS = ["job", "instance"];

function checkExpression(where: string, expr: string): string[] {
  const used: string[] = [];
  for (const selector of selectors(expr)) {
    const metric = metricOf(selector.metric);
    assert.ok(
      metric,
      `${where}: ${selector.metric} is no metric the controller or the agent registers`,
    );
    const allowed = new Set([
      ...metric.labels,
      ...TARGET_LABELS,
      ...(selector.metric.endsWith("_bucket") ? ["le"] : []),
    ]);
    for (const label of selector.labels)
      assert.ok(allowed.has(label), `${where}: ${selector.metric} has no label ${label}`);
    used.push(metric.name);
  }
  assert.ok(used.length > 0, `${where}: reads no metric at all: ${expr}`);
  return used;
}

// ---- the files ----

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

function alertRules(): { alert: string; expr: string }[] {
  const file = load(readFileSync(join(root, ALERTS), "utf8")) as RuleFile;
  return file.groups.flatMap((group) =>
    group.rules.map((rule) => ({ alert: rule.alert ?? rule.record ?? "?", expr: rule.expr })),
  );
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboard(): {
  panels: Panel[];
  templating?: { list: { name: string; query?: string | { query?: string } }[] };
} {
  return JSON.parse(readFileSync(join(root, DASHBOARD), "utf8")) as ReturnType<typeof dashboard>;
}

function panelQueries(): { where: string; expr: string }[] {
  const queries: { where: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? [])
        if (target.expr) queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard().panels);
  return queries;
}

function promtool(args: string[]) {
  const result = spawnSync("promtool", args, { cwd: root, encoding: "utf8", timeout: 60_000 });
  if (result.error) throw result.error;
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

// ---- the tests ----

describe("deploy/monitoring", () => {
  before(() => {
    const found = spawnSync("promtool", ["--version"], { encoding: "utf8" });
    if (found.error) {
      throw new Error(
        "promtool is not installed, so the alert rules cannot be checked: run ./scripts/test.sh " +
          "(its ensure_promtool installs it) or apt-get install --no-install-recommends prometheus",
      );
    }
  });

  it("alert rules read only metrics the code registers", () => {
    const rules = alertRules();
    assert.ok(rules.length > 0);
    for (const rule of rules) checkExpression(`${ALERTS} ${rule.alert}`, rule.expr);
  });

  it("cover pool usage, waiting services, detector deaths and agent reconcile errors", () => {
    const read = new Map<string, string[]>();
    for (const rule of alertRules())
      read.set(rule.alert, checkExpression(`${ALERTS} ${rule.alert}`, rule.expr));
    const reading = (metric: string) => [...read].filter(([, m]) => m.includes(metric)).length;
    assert.ok(reading("herald_pool_addresses") >= 3, "pool usage at 75, 90 and 100 %");
    assert.ok(reading("herald_services_waiting") >= 1);
    assert.ok(reading("herald_detector_deaths_total") >= 1);
    assert.ok(reading("herald_agent_reconcile_errors_total") >= 1);
  });

  it("pass promtool check rules", () => {
    const result = promtool(["check", "rules", ALERTS]);
    assert.equal(result.code, 0, result.out);
  });

  it("fire as their unit tests expect (promtool test rules)", () => {
    const result = promtool(["test", "rules", ALERT_TESTS]);
    assert.equal(result.code, 0, result.out);
  });

  it("dashboard panels read only metrics the code registers, and their queries parse", () => {
    const queries = panelQueries();
    assert.ok(queries.length > 0);
    for (const query of queries) checkExpression(`${DASHBOARD} ${query.where}`, query.expr);
    for (const variable of dashboard().templating?.list ?? []) {
      const query = typeof variable.query === "string" ? variable.query : variable.query?.query;
      const values = query && /^label_values\(\s*([\w:]+)\s*,\s*(\w+)\s*\)$/.exec(query);
      if (!values) continue;
      const metric = metricOf(values[1]!);
      assert.ok(metric, `${DASHBOARD} variable ${variable.name}: no metric ${values[1]}`);
      assert.ok(metric.labels.includes(values[2]!), `${values[1]} has no label ${values[2]}`);
    }
    // promtool parses PromQL; recording rules are a way to hand it expressions.
    const file = join(dir, "dashboard-queries.yaml");
    const rules = queries.map((query, index) => ({
      record: `herald_dashboard_query_${index}`,
      expr: withoutGrafanaVariables(query.expr),
    }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
    const result = promtool(["check", "rules", file]);
    assert.equal(result.code, 0, result.out);
  });
});

describe(DOC, () => {
  const doc = () => readFileSync(join(root, DOC), "utf8");

  it("lists every metric the controller and the agent register", () => {
    const text = doc();
    const rows = text.split("\n").filter((line) => line.startsWith("|"));
    for (const metric of metrics.values()) {
      if (metric.builtIn) {
        // prom-client's own metrics: listed once, under their unprefixed names; the
        // document says the controller's carry the prefix herald_.
        const name = metric.name.replace(/^herald_/, "");
        assert.ok(text.includes(`\`${name}\``), `${DOC} does not list ${name}`);
        continue;
      }
      const row = rows.find((line) => line.includes(`\`${metric.name}\``));
      assert.ok(row, `${DOC} has no table row for ${metric.name}`);
      const cells = row.split("|").map((cell) => cell.trim());
      assert.ok(cells.includes(metric.type), `${DOC}: ${metric.name} is a ${metric.type}`);
      for (const label of metric.labels)
        assert.ok(row.includes(`\`${label}\``), `${DOC}: ${metric.name} has the label ${label}`);
    }
    assert.ok(
      /controller's carry the prefix `herald_`/.test(text),
      `${DOC} should say the controller's process metrics carry the prefix herald_`,
    );
  });

  it("names no metric that does not exist", () => {
    for (const match of doc().matchAll(/`((?:herald|process|nodejs)_[a-z0-9_]+)`/g)) {
      const name = match[1]!;
      assert.ok(
        metricOf(name) ?? metricOf(`herald_${name}`),
        `${DOC} names ${name}, which nothing registers`,
      );
    }
  });
});
