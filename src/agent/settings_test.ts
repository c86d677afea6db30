import { test } from "node:test";
import assert from "node:assert/strict";
import { agentSettings, DEFAULT_SETTINGS } from "./settings.ts";

test("no AgentConfig gives the defaults", () => {
  assert.deepEqual(agentSettings(undefined), DEFAULT_SETTINGS);
});

test("set fields win; an unordered detector timing falls back to the defaults", () => {
  const settings = agentSettings({ failureDetector: { intervalMs: 50 }, garp: { count: 5 } });
  assert.equal(settings.failureDetector.intervalMs, 50);
  assert.equal(settings.failureDetector.timeoutMs, 700);
  assert.deepEqual(settings.garp, { count: 5, intervalMs: 1000 });
  const bad = agentSettings({ failureDetector: { intervalMs: 500, timeoutMs: 100, port: 9000 } });
  assert.deepEqual(bad.failureDetector, { ...DEFAULT_SETTINGS.failureDetector, port: 9000 });
});
