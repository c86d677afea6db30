// `herald dev-apiserver`: devkube as a process, for trying Herald with kubectl by hand.
import { writeFile } from "node:fs/promises";
import { DevKube } from "../devkube/server.ts";

export interface DevApiserverOptions {
  readonly host: string;
  readonly port: number;
  readonly kubeconfigOut: string | undefined;
}

/** Starts the server and resolves once it stops (SIGINT/SIGTERM). */
export async function runDevApiserver(
  options: DevApiserverOptions,
  stdout: (text: string) => void,
): Promise<number> {
  const kube = await DevKube.start({ host: options.host, port: options.port });
  if (options.kubeconfigOut)
    await writeFile(options.kubeconfigOut, kube.kubeconfig(), { mode: 0o600 });
  stdout(`${kube.url}\n`);
  if (options.kubeconfigOut) stdout(`kubeconfig written to ${options.kubeconfigOut}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await kube.stop();
  return 0;
}
