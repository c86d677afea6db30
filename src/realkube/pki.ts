// The certificates a real control plane needs: a CA, the API server's serving
// certificate, client certificates for the users that authenticate by certificate
// (cluster admin, kube-controller-manager, kube-proxy), and the ServiceAccount signing
// key. Made with the openssl command: Node's crypto makes keys but not certificates.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A user known to the API server by its client certificate's CN (user) and O (groups). */
export interface CertificateUser {
  readonly name: string;
  readonly groups?: readonly string[];
}

/** The users the control plane and the lab sign certificates for. */
export const ADMIN: CertificateUser = { name: "herald-admin", groups: ["system:masters"] };
export const CONTROLLER_MANAGER: CertificateUser = { name: "system:kube-controller-manager" };
export const KUBE_PROXY: CertificateUser = { name: "system:kube-proxy" };

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** The ServiceAccount token signing key (private) and its public half. */
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

export function pkiPaths(dir: string): Pki {
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    serverCert: join(dir, "apiserver.crt"),
    serverKey: join(dir, "apiserver.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
}

const DAYS = "3650";

/**
 * Writes a CA, a serving certificate valid for `addresses` (and the in-cluster names of
 * the kubernetes Service), and the ServiceAccount key pair into `dir`. Reuses what is
 * there, so a restarted control plane keeps trusting the tokens it issued.
 */
export async function createPki(dir: string, addresses: readonly string[]): Promise<Pki> {
  const pki = pkiPaths(dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(pki.caCert)) {
    await openssl(
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ["-keyout", pki.caKey, "-out", pki.caCert, "-days", DAYS, "-subj", "/CN=herald-test-ca"],
      [
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
      ],
    );
  }
  if (!existsSync(pki.serverCert)) {
    const names = [
      "DNS:localhost",
      "DNS:kubernetes",
      "DNS:kubernetes.default",
      "DNS:kubernetes.default.svc",
      "DNS:kubernetes.default.svc.cluster.local",
      ...new Set(["127.0.0.1", ...addresses].map((address) => `IP:${address}`)),
    ];
    await signed(pki, pki.serverCert, pki.serverKey, "/CN=kube-apiserver", [
      "-addext",
      `subjectAltName=${names.join(",")}`,
      "-addext",
      "extendedKeyUsage=serverAuth",
    ]);
  }
  if (!existsSync(pki.serviceAccountKey)) {
    await openssl(
      ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
      ["-out", pki.serviceAccountKey],
    );
    await openssl(["pkey", "-in", pki.serviceAccountKey, "-pubout", "-out", pki.serviceAccountPub]);
  }
  return pki;
}

/** A client certificate and key for `user`, signed by the CA; returns their paths. */
export async function clientCertificate(
  pki: Pki,
  user: CertificateUser,
): Promise<{ cert: string; key: string }> {
  const base = join(pki.dir, `user-${user.name.replaceAll(":", "_")}`);
  const cert = `${base}.crt`;
  const key = `${base}.key`;
  if (!existsSync(cert)) {
    const subject = [`/CN=${user.name}`, ...(user.groups ?? []).map((group) => `/O=${group}`)].join(
      "",
    );
    await signed(pki, cert, key, subject, ["-addext", "extendedKeyUsage=clientAuth"]);
  }
  return { cert, key };
}

async function signed(
  pki: Pki,
  cert: string,
  key: string,
  subject: string,
  extensions: readonly string[],
): Promise<void> {
  await openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ["-CA", pki.caCert, "-CAkey", pki.caKey, "-keyout", key, "-out", cert, "-days", DAYS],
    ["-subj", subject, "-addext", "basicConstraints=critical,CA:FALSE", ...extensions],
  );
}

async function openssl(...parts: readonly (readonly string[])[]): Promise<void> {
  const args = parts.flat();
  try {
    await run("openssl", args);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
}
