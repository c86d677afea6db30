// AgentConfig beyond its schema: interface regexes the agent cannot compile (it ignores
// them and reports InvalidInterfaceRegex), and the routing mode the other checks depend on.
import { AGENT_CONFIG_NAME, type AgentConfigSpec, type RoutingMode } from "../api/agentconfig.ts";
import { compileRegexes } from "../agent/kernel/choose.ts";
import { isPlainObject } from "../api/validation.ts";
import type { HeraldObject } from "./inventory.ts";
import { errorAt, type Problem } from "./problem.ts";

export function checkAgentConfigs(agentConfigs: readonly HeraldObject[]): Problem[] {
  const problems: Problem[] = [];
  for (const config of agentConfigs) {
    const spec = config.stored.spec;
    const regexes = isPlainObject(spec) ? spec.localInterfaces : undefined;
    if (!Array.isArray(regexes)) continue;
    regexes.forEach((regex: unknown, i: number) => {
      if (typeof regex !== "string") return;
      const compiled = compileRegexes([regex]);
      if ("error" in compiled) {
        problems.push(
          errorAt(
            config.subject,
            `spec.localInterfaces[${i}]`,
            `${compiled.error}; the agents ignore it and set ConfigValid=False (InvalidInterfaceRegex)`,
          ),
        );
      }
    });
  }
  return problems;
}

/** The routing mode the agents would run with: AgentConfig default's, else Bird. */
export function routingMode(agentConfigs: readonly HeraldObject[]): RoutingMode {
  const config = agentConfigs.find((c) => c.accepted && c.name === AGENT_CONFIG_NAME);
  const spec = config?.stored.spec as AgentConfigSpec | undefined;
  return spec?.routing ?? "Bird";
}
