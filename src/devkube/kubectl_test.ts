// Real kubectl against `herald dev-apiserver` running as its own process. Needs kubectl
// on PATH (scripts/test.sh installs Debian's kubernetes-client where it is missing).
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-kubectl-"));
const kubeconfig = join(dir, "kubeconfig");
let server: ChildProcess;
let validateFlag: string[] = [];

function kubectl(args: string[], input?: string) {
  const result = spawnSync("kubectl", args, {
    input,
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG: kubeconfig },
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(args: string[], input?: string): string {
  const result = kubectl(args, input);
  assert.equal(result.code, 0, `kubectl ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

before(async () => {
  const found = spawnSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8" });
  if (found.error) {
    throw new Error(
      "this test needs kubectl on PATH; scripts/test.sh installs Debian's kubernetes-client",
    );
  }
  // kubectl before 1.27 validates manifests against a protobuf OpenAPI v2 document,
  // which devkube does not serve; newer kubectl leaves validation to the server.
  const minor = Number(/"minor":\s*"(\d+)/.exec(found.stdout)?.[1] ?? 99);
  if (minor < 27) validateFlag = ["--validate=false"];

  server = spawn(
    process.execPath,
    [join(root, "bin/herald.js"), "dev-apiserver", "--kubeconfig-out", kubeconfig],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    server.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("kubeconfig written")) resolve();
    });
    server.once("exit", (code) => reject(new Error(`dev-apiserver exited with ${code}`)));
  });
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("kubectl against herald dev-apiserver", () => {
  it("lists the API resources", () => {
    const out = ok(["api-resources"]);
    for (const resource of [
      "services",
      "endpointslices",
      "leases",
      "customresourcedefinitions",
      "events",
    ]) {
      assert.match(out, new RegExp(`^${resource}\\s`, "m"));
    }
  });

  it("creates, gets and deletes namespaces and services", () => {
    ok(
      ["create", ...validateFlag, "-f", "-"],
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
    );
    assert.match(ok(["get", "namespaces"]), /^shop\s+Active/m);
    const service =
      "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n";
    assert.match(ok(["apply", ...validateFlag, "-f", "-"], service), /service\/web created/);
    assert.match(ok(["get", "services", "-n", "shop"]), /^web\s+LoadBalancer\s+10\.96\./m);
    const stored = JSON.parse(ok(["get", "service", "web", "-n", "shop", "-o", "json"]));
    assert.deepEqual(stored.spec.ipFamilies, ["IPv4"]);
    assert.ok(stored.spec.ports[0].nodePort >= 30000);
    ok(
      ["create", ...validateFlag, "-f", "-"],
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: scratch}\n",
    );
    ok(["delete", "namespace", "scratch"]);
    const gone = kubectl(["get", "namespace", "scratch"]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound/);
  });

  it("patches, labels and annotates", () => {
    ok([
      "patch",
      "service",
      "web",
      "-n",
      "shop",
      "--type=merge",
      "-p",
      '{"spec":{"externalTrafficPolicy":"Local"}}',
    ]);
    ok(["label", "service", "web", "-n", "shop", "tier=front"]);
    ok(["annotate", "service", "web", "-n", "shop", "herald.dev/sharing-key=web"]);
    const out = ok([
      "get",
      "service",
      "web",
      "-n",
      "shop",
      "-o",
      "jsonpath={.spec.externalTrafficPolicy} {.metadata.labels.tier} {.metadata.annotations.herald\\.dev/sharing-key}",
    ]);
    assert.equal(out, "Local front web");
  });

  it("sees an update through get -w", async () => {
    const watcher = spawn("kubectl", ["get", "service", "web", "-n", "shop", "-w", "-o", "name"], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    let out = "";
    watcher.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    try {
      while (!out.includes("service/web")) await new Promise((r) => setTimeout(r, 50));
      ok(["label", "service", "web", "-n", "shop", "watched=yes"]);
      const deadline = Date.now() + 10_000;
      while (out.split("\n").filter((line) => line === "service/web").length < 2) {
        assert.ok(Date.now() < deadline, `get -w saw no update: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      watcher.kill();
    }
  });

  it("applies Herald's CRDs, then creates and lists AddressPools", () => {
    const applied = ok(["apply", ...validateFlag, "-k", join(root, "deploy/crds")]);
    assert.match(applied, /addresspools\.herald\.dev created/);
    ok(
      ["apply", ...validateFlag, "-f", "-"],
      [
        "apiVersion: herald.dev/v1alpha1",
        "kind: AddressPool",
        "metadata: {name: lan}",
        "spec: {addresses: [192.168.10.240-192.168.10.250, 2001:db8:10::/64], announce: Local}",
        "",
      ].join("\n"),
    );
    const listed = ok(["get", "pools"]);
    assert.match(listed.split("\n")[0]!, /^NAME\s+ADDRESSES/);
    assert.match(listed, /^lan\s+\["?192\.168\.10\.240-192\.168\.10\.250/m);
    assert.match(ok(["get", "addresspools", "-o", "name"]), /addresspool\.herald\.dev\/lan/);
  });

  it("refuses an invalid AddressPool with the validation message", () => {
    const bad = kubectl(
      ["apply", ...validateFlag, "-f", "-"],
      [
        "apiVersion: herald.dev/v1alpha1",
        "kind: AddressPool",
        "metadata: {name: bad}",
        'spec: {addresses: ["10.0.0.9-10.0.0.1"]}',
        "",
      ].join("\n"),
    );
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /The AddressPool "bad" is invalid: spec\.addresses\[0\]: Invalid value: "10\.0\.0\.9-10\.0\.0\.1": a range must start with its lower address/,
    );
    assert.notEqual(kubectl(["get", "pool", "bad"]).code, 0);
  });

  // kubectl 1.32's generators send protobuf (older ones JSON): both must create the object.
  it("creates namespaces, services, configmaps and secrets with kubectl create <generator>", () => {
    assert.match(ok(["create", "namespace", "gen"]), /namespace\/gen created/);
    const namespace = JSON.parse(ok(["get", "namespace", "gen", "-o", "json"]));
    assert.equal(namespace.metadata.name, "gen");
    assert.equal(namespace.status.phase, "Active");

    ok(["create", "service", "clusterip", "web", "-n", "gen", "--tcp=80:8080"]);
    ok(["create", "service", "nodeport", "np", "-n", "gen", "--tcp=5678:8080"]);
    ok(["create", "service", "loadbalancer", "lb", "-n", "gen", "--tcp=443:https", "--tcp=53"]);
    const services = Object.fromEntries(
      JSON.parse(ok(["get", "services", "-n", "gen", "-o", "json"])).items.map(
        (s: { metadata: { name: string } }) => [s.metadata.name, s],
      ),
    );
    assert.equal(services.web.spec.type, "ClusterIP");
    assert.deepEqual(services.web.spec.selector, { app: "web" });
    assert.deepEqual(services.web.spec.ports, [
      { name: "80-8080", port: 80, targetPort: 8080, protocol: "TCP" },
    ]);
    assert.match(services.web.spec.clusterIP, /^10\.96\./);
    assert.equal(services.np.spec.type, "NodePort");
    assert.equal(services.np.spec.ports[0].targetPort, 8080);
    assert.ok(services.np.spec.ports[0].nodePort >= 30000);
    assert.equal(services.lb.spec.type, "LoadBalancer");
    assert.deepEqual(services.lb.spec.selector, { app: "lb" });
    assert.deepEqual(
      services.lb.spec.ports.map((p: Record<string, unknown>) => [
        p.port,
        p.targetPort,
        p.protocol,
      ]),
      [
        [443, "https", "TCP"],
        [53, 53, "TCP"],
      ],
    );

    ok([
      "create",
      "configmap",
      "settings",
      "-n",
      "gen",
      "--from-literal=a=1",
      "--from-literal=b=two",
    ]);
    const configMap = JSON.parse(ok(["get", "configmap", "settings", "-n", "gen", "-o", "json"]));
    assert.deepEqual(configMap.data, { a: "1", b: "two" });

    ok(["create", "secret", "generic", "creds", "-n", "gen", "--from-literal=user=admin"]);
    const secret = JSON.parse(ok(["get", "secret", "creds", "-n", "gen", "-o", "json"]));
    assert.deepEqual(secret.data, { user: Buffer.from("admin").toString("base64") });

    ok(["delete", "namespace", "gen"]);
  });

  it("deletes services", () => {
    ok(["delete", "service", "web", "-n", "shop"]);
    assert.match(kubectl(["get", "services", "-n", "shop"]).stderr, /No resources found/);
  });
});
