// Finding a lab by name and reading what it is and how it is doing — the light part of
// the lab commands, without the Kubernetes client, for `info` and `kubeconfig`.
import { LabError } from "./error.ts";
import { labInfo, type LabInfo } from "./info.ts";
import { runningProcesses } from "./processes.ts";
import { labDir, LabFiles, type LabState } from "./state.ts";
import { topology, type Topology } from "./topology.ts";

export { LabError };

export interface LabRef {
  readonly name: string;
  /** Unset: HERALD_LAB_DIR or /run/herald/lab-<name>. */
  readonly dir?: string;
}

/** The lab's recorded state and topology; a LabError if no lab of that name is up. */
export function labState(ref: LabRef): { state: LabState; files: LabFiles; shape: Topology } {
  const files = new LabFiles(labDir(ref.name, ref.dir));
  const state = files.readState();
  if (!state)
    throw new LabError(
      `no lab named ${ref.name} (no state in ${files.dir}); start one with herald lab up --name ${ref.name}`,
    );
  const shape = topology({
    name: state.name,
    nodes: state.nodes.length,
    ipv6: state.ipv6,
    index: state.index,
    // A lab from before --router has no bgp in its state: it runs no BGP daemon.
    router: state.bgp?.router ?? null,
    ibgp: state.bgp !== undefined && state.bgp.nodeASN === state.bgp.routerASN,
    kube: state.kube?.backend ?? "devkube",
    proxyMode: state.kube?.proxyMode ?? undefined,
  });
  return { state, files, shape };
}

export function labInfoOf(ref: LabRef): LabInfo {
  const { files, shape } = labState(ref);
  return labInfo(shape, files.dir, files.readBackends());
}

export interface LabStatus {
  /** role -> pid, for the lab's processes that are running */
  running: Record<string, number>;
  /** node -> failure mode */
  failed: Record<string, string>;
  agents: boolean;
}

export function labStatus(ref: LabRef): LabStatus {
  const { state, files } = labState(ref);
  return {
    running: Object.fromEntries(runningProcesses(files)),
    failed: Object.fromEntries(
      Object.entries(files.readFailures()).map(([node, failure]) => [node, failure.mode]),
    ),
    agents: state.agents,
  };
}
