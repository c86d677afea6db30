// The image's entry point (deploy/image, deploy/Dockerfile): only what runs in a cluster —
// the controller and the agent (the BIRD sidecar runs bird itself). No devkube (an API
// server without authentication), no lab, no offline commands: scripts/bundle.ts bundles
// this file for the image, and what it does not import is not in the image.
import {
  addAgentCommand,
  addAgentSysctlsCommand,
  addControllerCommand,
  heraldProgram,
  runProgram,
} from "./daemons.ts";

const program = heraldProgram();
addControllerCommand(program);
addAgentCommand(program);
addAgentSysctlsCommand(program);
await runProgram(program, process.argv);
