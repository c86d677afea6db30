// A real Kubernetes control plane — etcd, kube-apiserver and (optionally)
// kube-controller-manager — as plain processes on this host, for the tests and the lab.
// This file says how each is started (flags and why), writes the kubeconfigs, and waits
// until the API server is ready; who runs the processes (a test as children, the lab as
// detached daemons) is the caller's business.
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ADMIN,
  clientCertificate,
  CONTROLLER_MANAGER,
  createPki,
  type CertificateUser,
  type Pki,
} from "./pki.ts";

export interface ControlPlaneOptions {
  /** Where the certificates, etcd's data, kubeconfigs and logs go. */
  readonly dir: string;
  /** The directory with the binaries (kubernetesBinaries()). */
  readonly bin: string;
  /** Another kube-apiserver than bin's: an older release, for the minimum-version test. */
  readonly apiserver?: string;
  /** The API server's bind and advertise address; the serving certificate names it. */
  readonly address: string;
  readonly port: number;
  readonly etcdPort: number;
  readonly etcdPeerPort: number;
  /** Service ClusterIP ranges: one, or an IPv4 and an IPv6 one for dual stack. */
  readonly serviceCidrs?: readonly string[];
  /** Extra addresses the serving certificate names (the lab's IPv6 host address). */
  readonly extraAddresses?: readonly string[];
  /**
   * Write an audit log here: one JSON line per request, naming its user — how the lab and
   * the benchmarks count the requests each of Herald's clients makes.
   */
  readonly auditLog?: string;
}

export interface ControlPlaneFiles {
  readonly pki: Pki;
  /** cluster-admin (system:masters) by client certificate. */
  readonly adminKubeconfig: string;
  readonly controllerManagerKubeconfig: string;
  readonly etcdData: string;
  readonly server: string;
  /** The audit policy, when options.auditLog asks for a log. */
  readonly auditPolicy?: string;
}

export interface ControlPlaneCommands {
  readonly etcd: string[];
  readonly apiserver: string[];
  readonly controllerManager: string[];
}

/**
 * Who did what, not what they sent: metadata only, once per request (at ResponseComplete,
 * or ResponseStarted for a watch), so a line is a request.
 */
const AUDIT_POLICY = {
  apiVersion: "audit.k8s.io/v1",
  kind: "Policy",
  omitStages: ["RequestReceived"],
  rules: [{ level: "Metadata" }],
};

export const DEFAULT_SERVICE_CIDRS = ["10.96.0.0/16", "fd00:10:96::/112"] as const;

/** Certificates and kubeconfigs; reused when already there. */
export async function prepareControlPlane(
  options: ControlPlaneOptions,
): Promise<ControlPlaneFiles> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const pki = await createPki(join(options.dir, "pki"), [
    options.address,
    ...(options.extraAddresses ?? []),
  ]);
  const server = `https://${hostPort(options.address, options.port)}`;
  const adminKubeconfig = join(options.dir, "admin.kubeconfig");
  const controllerManagerKubeconfig = join(options.dir, "controller-manager.kubeconfig");
  await writeCertificateKubeconfig(adminKubeconfig, server, pki, ADMIN);
  await writeCertificateKubeconfig(controllerManagerKubeconfig, server, pki, CONTROLLER_MANAGER);
  let auditPolicy: string | undefined;
  if (options.auditLog !== undefined) {
    auditPolicy = join(options.dir, "audit-policy.json");
    await writeFile(auditPolicy, `${JSON.stringify(AUDIT_POLICY)}\n`);
  }
  return {
    pki,
    adminKubeconfig,
    controllerManagerKubeconfig,
    etcdData: join(options.dir, "etcd"),
    server,
    ...(auditPolicy ? { auditPolicy } : {}),
  };
}

export function controlPlaneCommands(
  options: ControlPlaneOptions,
  files: ControlPlaneFiles,
): ControlPlaneCommands {
  const bin = (name: string) => join(options.bin, name);
  const etcdClient = `http://127.0.0.1:${options.etcdPort}`;
  const etcdPeer = `http://127.0.0.1:${options.etcdPeerPort}`;
  const { pki } = files;
  return {
    etcd: [
      bin("etcd"),
      "--name",
      "herald",
      "--data-dir",
      files.etcdData,
      "--listen-client-urls",
      etcdClient,
      "--advertise-client-urls",
      etcdClient,
      "--listen-peer-urls",
      etcdPeer,
      "--initial-advertise-peer-urls",
      etcdPeer,
      "--initial-cluster",
      `herald=${etcdPeer}`,
      // A throwaway cluster: losing the last writes on a host crash loses nothing, and
      // fsync on every write is most of etcd's latency on a shared disk.
      "--unsafe-no-fsync",
      "--log-level",
      "warn",
    ],
    apiserver: [
      options.apiserver ?? bin("kube-apiserver"),
      "--etcd-servers",
      etcdClient,
      "--bind-address",
      options.address,
      "--advertise-address",
      options.address,
      "--secure-port",
      String(options.port),
      "--tls-cert-file",
      pki.serverCert,
      "--tls-private-key-file",
      pki.serverKey,
      "--client-ca-file",
      pki.caCert,
      "--service-account-issuer",
      "https://kubernetes.default.svc.cluster.local",
      "--service-account-key-file",
      pki.serviceAccountPub,
      "--service-account-signing-key-file",
      pki.serviceAccountKey,
      "--authorization-mode",
      "Node,RBAC",
      "--enable-admission-plugins",
      "NodeRestriction",
      "--service-cluster-ip-range",
      (options.serviceCidrs ?? DEFAULT_SERVICE_CIDRS).join(","),
      "--allow-privileged=true",
      "--profiling=false",
      "--cert-dir",
      join(options.dir, "apiserver-certs"),
      // The kubernetes Service's endpoints name the advertise address, which may not be
      // loopback: a test's API server on 127.0.0.1 has no such Service to keep.
      ...(isLoopback(options.address) ? ["--endpoint-reconciler-type", "none"] : []),
      ...(options.auditLog !== undefined && files.auditPolicy !== undefined
        ? [
            "--audit-policy-file",
            files.auditPolicy,
            "--audit-log-path",
            options.auditLog,
            "--audit-log-format",
            "json",
            // Batched: the log must not slow the requests it counts.
            "--audit-log-mode",
            "batch",
            "--audit-log-maxsize",
            "200",
            "--audit-log-maxbackup",
            "1",
          ]
        : []),
    ],
    controllerManager: [
      bin("kube-controller-manager"),
      "--kubeconfig",
      files.controllerManagerKubeconfig,
      // No serving port: nothing scrapes it, and it would need its own certificate.
      "--secure-port=0",
      "--leader-elect=false",
      // Each controller under its own ServiceAccount, as kubeadm runs it: the
      // EndpointSlice controller's RBAC is the real one.
      "--use-service-account-credentials=true",
      "--service-account-private-key-file",
      pki.serviceAccountKey,
      "--root-ca-file",
      pki.caCert,
      "--service-cluster-ip-range",
      (options.serviceCidrs ?? DEFAULT_SERVICE_CIDRS).join(","),
      // The lab's nodes run no kubelet: the node lifecycle controller would mark them
      // NotReady after 40 s without heartbeats and taint them, and the taint eviction
      // controller would then delete their Pods. Herald's own failure detector, not the
      // kubelet's heartbeat, is what the lab measures.
      "--controllers",
      "*,-node-lifecycle-controller,-taint-eviction-controller",
    ],
  };
}

/** A kubeconfig authenticating as `user` by client certificate. */
export async function writeCertificateKubeconfig(
  path: string,
  server: string,
  pki: Pki,
  user: CertificateUser,
): Promise<void> {
  const { cert, key } = await clientCertificate(pki, user);
  await writeKubeconfig(path, server, pki.caCert, {
    "client-certificate": cert,
    "client-key": key,
  });
}

/** A kubeconfig for a bearer token (a ServiceAccount's, from TokenRequest). */
export async function writeTokenKubeconfig(
  path: string,
  server: string,
  caCert: string,
  token: string,
): Promise<void> {
  await writeKubeconfig(path, server, caCert, { token });
}

async function writeKubeconfig(
  path: string,
  server: string,
  caCert: string,
  user: Record<string, string>,
): Promise<void> {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "herald", cluster: { server, "certificate-authority": caCert } }],
    users: [{ name: "herald", user }],
    contexts: [{ name: "herald", context: { cluster: "herald", user: "herald" } }],
    "current-context": "herald",
  };
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** Whether etcd answers its health check. */
export function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpRequest(
      { host: "127.0.0.1", port, path: "/health", timeout: 1000 },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => resolve(response.statusCode === 200 && body.includes("true")));
      },
    );
    request.on("error", () => resolve(false));
    request.on("timeout", () => request.destroy());
    request.end();
  });
}

/** Whether the API server answers /readyz with "ok" to the admin. */
export function apiserverReady(files: ControlPlaneFiles): Promise<boolean> {
  const url = new URL(`${files.server}/readyz`);
  const cert = readFileSync(join(files.pki.dir, "user-herald-admin.crt"));
  const key = readFileSync(join(files.pki.dir, "user-herald-admin.key"));
  const ca = readFileSync(files.pki.caCert);
  return new Promise((resolve) => {
    const request = httpsRequest(
      {
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port,
        path: url.pathname,
        ca,
        cert,
        key,
        timeout: 2000,
      },
      (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => resolve(response.statusCode === 200 && body.trim() === "ok"));
      },
    );
    request.on("error", () => resolve(false));
    request.on("timeout", () => request.destroy());
    request.end();
  });
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
