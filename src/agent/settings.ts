// AgentConfig with its defaults filled in. The API server defaults a stored AgentConfig
// already; these are for a cluster without one (it is optional) and for fields added later.
import type { AgentConfigSpec, RoutingMode } from "../api/agentconfig.ts";

export interface AgentSettings {
  virtualInterface: string;
  localInterfaces: string[];
  routing: RoutingMode;
  failureDetector: { intervalMs: number; suspicionMs: number; timeoutMs: number; port: number };
  garp: { count: number; intervalMs: number };
  maintenance: {
    handoverOnCordon: boolean;
    handoverTimeoutMs: number;
    gracefulShutdownMs: number;
    connectionDrainMs: number;
  };
}

export const DEFAULT_SETTINGS: AgentSettings = {
  virtualInterface: "kube-lb0",
  localInterfaces: [],
  routing: "Bird",
  failureDetector: { intervalMs: 100, suspicionMs: 300, timeoutMs: 700, port: 7474 },
  garp: { count: 3, intervalMs: 1000 },
  maintenance: {
    handoverOnCordon: true,
    handoverTimeoutMs: 5000,
    gracefulShutdownMs: 3000,
    connectionDrainMs: 2000,
  },
};

export function agentSettings(spec: AgentConfigSpec | undefined): AgentSettings {
  const detector = { ...DEFAULT_SETTINGS.failureDetector, ...spec?.failureDetector };
  // The CRD's CEL rule keeps these ordered; an object that slipped past it must not make
  // the detector declare everyone dead, so fall back to the defaults as a whole.
  const ordered =
    detector.intervalMs < detector.suspicionMs && detector.suspicionMs < detector.timeoutMs;
  return {
    virtualInterface: spec?.virtualInterface ?? DEFAULT_SETTINGS.virtualInterface,
    localInterfaces: spec?.localInterfaces ?? [],
    routing: spec?.routing ?? DEFAULT_SETTINGS.routing,
    failureDetector: ordered
      ? detector
      : { ...DEFAULT_SETTINGS.failureDetector, port: detector.port },
    garp: { ...DEFAULT_SETTINGS.garp, ...spec?.garp },
    maintenance: { ...DEFAULT_SETTINGS.maintenance, ...spec?.maintenance },
  };
}
