// herald validate's checks as specifications: what each kind of mistake looks like in the
// report, and that correct objects of every kind pass.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifests } from "./manifests.ts";
import type { Problem } from "./problem.ts";
import { problemLine } from "./report.ts";
import { validateDocuments, type ValidationReport } from "./validate.ts";

/** Validates YAML texts given as files in0.yaml, in1.yaml, … */
function validate(...texts: string[]): ValidationReport {
  return validateDocuments(texts.flatMap((text, i) => parseManifests(text, `in${i}.yaml`)));
}

const lines = (report: ValidationReport) => report.problems.map(problemLine);

/** The one problem matching `pattern`; fails listing them all otherwise. */
function only(report: ValidationReport, pattern: RegExp): Problem {
  const found = report.problems.filter((problem) => pattern.test(problemLine(problem)));
  assert.equal(
    found.length,
    1,
    `expected one problem matching ${pattern}, got:\n${lines(report).join("\n")}`,
  );
  return found[0]!;
}

function assertClean(report: ValidationReport): void {
  assert.deepEqual(lines(report), []);
}

const pool = (name: string, spec: string, metadata = "") => `
apiVersion: herald.dev/v1alpha1
kind: AddressPool
metadata: {name: ${name}${metadata}}
spec: ${spec}
---`;

const localPool = (name: string, addresses: string, metadata = "") =>
  pool(name, `{addresses: [${addresses}], announce: Local}`, metadata);

const service = (name: string, extra = "", annotations = "{}") => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop, annotations: ${annotations}}
spec: {type: LoadBalancer, ports: [{port: 80}]${extra}}
---`;

describe("every Herald kind, written correctly, passes", () => {
  it("AddressPool", () => {
    assertClean(
      validate(
        pool(
          "lan",
          `{addresses: ["192.168.10.240-192.168.10.250", "2001:db8:10::/64"], announce: Local,
            autoAssign: true, avoidBuggyIPs: true, priority: 10,
            allocation: {namespaces: [team-a], serviceSelector: {matchLabels: {expose: public}}},
            nodeSelector: {matchExpressions: [{key: rack, operator: In, values: [r1]}]},
            interfaces: ["^bond0$"]}`,
        ),
      ),
    );
  });

  it("BGPPeer, with its password Secret", () => {
    assertClean(
      validate(`
apiVersion: herald.dev/v1alpha1
kind: BGPPeer
metadata: {name: tor}
spec:
  peerAddress: 2001:db8::1
  peerASN: 4200000000
  localASN: 65001
  port: 1179
  holdTime: 90
  keepaliveTime: 30
  ebgpMultihop: 2
  passwordSecretRef: {namespace: herald-system, name: bgp, key: md5}
  bfd: {minRxMs: 100}
  routerID: 10.0.0.1
  nodeSelector: {matchLabels: {bgp: "true"}}
  families: [IPv6]
---
apiVersion: v1
kind: Secret
metadata: {name: bgp, namespace: herald-system}
data: {md5: c2VjcmV0}
`),
    );
  });

  it("BGPAdvertisement, with the pool and peer it names", () => {
    assertClean(
      validate(
        pool("routed", `{addresses: ["10.50.0.0/28"], announce: Routed}`),
        `
apiVersion: herald.dev/v1alpha1
kind: BGPPeer
metadata: {name: tor, labels: {role: tor}}
spec: {peerAddress: 10.0.0.1, peerASN: 65000, localASN: 65000}
---
apiVersion: herald.dev/v1alpha1
kind: BGPAdvertisement
metadata: {name: up}
spec:
  pools: [routed]
  peerSelector: {matchLabels: {role: tor}}
  communities: ["65000:100", no-export]
  largeCommunities: ["65000:1:2"]
  localPreference: 200
`,
      ),
    );
  });

  it("AgentConfig named default, with no spec at all or a full one", () => {
    assertClean(
      validate("apiVersion: herald.dev/v1alpha1\nkind: AgentConfig\nmetadata: {name: default}\n"),
    );
    assertClean(
      validate(`
apiVersion: herald.dev/v1alpha1
kind: AgentConfig
metadata: {name: default}
spec:
  virtualInterface: lb0
  localInterfaces: ["^eth[0-9]+$"]
  routing: External
  failureDetector: {intervalMs: 50, suspicionMs: 150, timeoutMs: 400, port: 7000}
  garp: {count: 5, intervalMs: 200}
`),
    );
  });

  it("NodeState, as an agent writes it", () => {
    assertClean(
      validate(`
apiVersion: herald.dev/v1alpha1
kind: NodeState
metadata: {name: node1}
status:
  announced: [{address: 192.168.10.240, services: [shop/web], mode: Local, interface: eth0}]
`),
    );
  });

  it("Services, Namespaces and Secrets of other kinds' concern, and objects of other APIs", () => {
    assertClean(
      validate(
        localPool("lan", `"192.168.10.0/24"`),
        service("web"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" +
          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n",
      ),
    );
  });
});

describe("syntax", () => {
  it("names the file, document and line of a YAML error, and still checks the other documents", () => {
    const report = validate(`${localPool("ok", `"10.0.0.0/24"`)}\nspec: [\n---\n${service("web")}`);
    const problem = only(report, /not valid YAML/);
    assert.equal(problem.source, "in0.yaml (document 2)");
    assert.match(problem.message, /at line \d+, column \d+/);
    assert.equal(report.errors, 1);
  });

  it("refuses a document that is not an object, and an object without kind", () => {
    const report = validate("- a\n- b\n---\napiVersion: v1\nmetadata: {name: x}\n");
    only(report, /^error: in0\.yaml \(document 1\): expected a Kubernetes object .*found a list/);
    only(report, /^error: in0\.yaml \(document 2\): kind: Required value/);
  });

  it("reads List objects item by item", () => {
    const report = validate(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: herald.dev/v1alpha1\n  kind: AddressPool\n  metadata: {name: x}\n  spec: {}\n",
    );
    const problem = only(report, /spec\.addresses: Required value/);
    assert.equal(problem.source, "in0.yaml item 1");
  });
});

describe("each object against its CRD, as the API server checks it", () => {
  it("reports a CEL rule's message at its field path", () => {
    const problem = only(validate(localPool("lan", `"10.0.0.5/24"`)), /addresses/);
    assert.deepEqual(
      { field: problem.field, message: problem.message },
      {
        field: "spec.addresses[0]",
        message:
          'Invalid value: "10.0.0.5/24": a CIDR must not have host bits set; write its network address, or a range',
      },
    );
  });

  it("reports a rule with its own fieldPath there (keepalive not below hold time)", () => {
    const report = validate(`
apiVersion: herald.dev/v1alpha1
kind: BGPPeer
metadata: {name: tor}
spec: {peerAddress: 10.0.0.1, peerASN: 65000, localASN: 65001, holdTime: 9, keepaliveTime: 9}
`);
    assert.equal(only(report, /keepaliveTime/).field, "spec.keepaliveTime");
  });

  it("reports OpenAPI types, enums and bounds", () => {
    const report = validate(
      pool(
        "lan",
        `{addresses: ["10.0.0.0/24"], announce: Sometimes, priority: -1, autoAssign: "yes"}`,
      ),
    );
    only(
      report,
      /spec\.announce: Unsupported value: "Sometimes": supported values: "Auto", "Local", "Routed"/,
    );
    only(
      report,
      /spec\.autoAssign: Invalid value: "string": spec\.autoAssign in body must be of type boolean/,
    );
  });

  it("refuses unknown fields, suggesting the one meant", () => {
    const report = validate(
      pool(
        "lan",
        `{addresses: ["10.0.0.0/24"], announce: Local, autoassign: false}`,
        ", lables: {a: b}",
      ),
    );
    only(report, /spec\.autoassign: unknown field "spec\.autoassign"; did you mean autoAssign\?/);
    only(report, /metadata\.lables: unknown field "metadata\.lables"; did you mean labels\?/);
  });

  it("refuses labels that are not strings or not valid label keys", () => {
    const report = validate(
      pool(
        "lan",
        `{addresses: ["10.0.0.0/24"], announce: Local}`,
        ", labels: {bgp: true, 'a b': x}",
      ),
    );
    only(report, /metadata\.labels\[bgp\]: Invalid value: true: must be a string/);
    only(report, /metadata\.labels: Invalid value: label key "a b" is invalid/);
  });

  it("reports a malformed object once, by its schema, without tripping the cross-object checks", () => {
    const report = validate(`
apiVersion: herald.dev/v1alpha1
kind: BGPAdvertisement
metadata: {name: a}
spec: {pools: lan, peerSelector: [x]}
---
apiVersion: herald.dev/v1alpha1
kind: BGPPeer
metadata: {name: p}
spec: {peerAddress: 10.0.0.1, peerASN: 1, localASN: 2, passwordSecretRef: x, nodeSelector: 3}
`);
    assert.deepEqual(
      report.problems.map((p) => p.field).filter((f) => f !== ""),
      ["spec.pools", "spec.peerSelector", "spec.passwordSecretRef", "spec.nodeSelector"],
    );
  });

  it("refuses an AgentConfig not named default", () => {
    const report = validate(
      "apiVersion: herald.dev/v1alpha1\nkind: AgentConfig\nmetadata: {name: agents}\n",
    );
    only(
      report,
      /AgentConfig "agents": Invalid value: there is one AgentConfig and it must be named default/,
    );
  });

  it("requires a valid name", () => {
    only(
      validate(pool("Lan", `{addresses: ["10.0.0.0/24"], announce: Local}`)),
      /metadata\.name: Invalid value: "Lan": a lowercase RFC 1123 subdomain/,
    );
    only(
      validate(
        "apiVersion: herald.dev/v1alpha1\nkind: AddressPool\nspec: {addresses: [10.0.0.1]}\n",
      ),
      /metadata\.name: Required value/,
    );
  });

  it("refuses a wrong apiVersion or kind, and leaves other projects' kinds alone with a warning", () => {
    const report = validate(`
apiVersion: herald.dev/v1
kind: AddressPool
metadata: {name: a}
---
apiVersion: v1alpha1
kind: BGPPeer
metadata: {name: b}
---
apiVersion: herald.dev/v1alpha1
kind: Addresspool
metadata: {name: c}
---
apiVersion: metallb.io/v1beta1
kind: AddressPool
metadata: {name: d}
`);
    only(
      report,
      /AddressPool "a": apiVersion: Unsupported value: "herald\.dev\/v1": Herald serves herald\.dev\/v1alpha1/,
    );
    only(
      report,
      /BGPPeer "b": apiVersion: Unsupported value: "v1alpha1": BGPPeer is a kind of herald\.dev\/v1alpha1/,
    );
    only(report, /Addresspool "c": kind: .*did you mean AddressPool\?/);
    assert.equal(only(report, /AddressPool "d"/).severity, "warning");
    assert.equal(report.errors, 3);
  });

  it("refuses an object defined twice, naming where it was first", () => {
    const report = validate(localPool("lan", `"10.0.0.0/24"`), localPool("lan", `"10.1.0.0/24"`));
    only(report, /^error: in1\.yaml: AddressPool "lan": metadata\.name: also defined in in0\.yaml/);
    const services = validate(service("web") + service("web"));
    only(services, /Service "shop\/web": metadata\.name: also defined in in0\.yaml \(document 1\)/);
  });
});

describe("what only the controller and agents check", () => {
  it("reports the controller's pool problems: a reversed IPv6 range, entries that overlap", () => {
    const report = validate(
      localPool("lan", `"2001:db8::9-2001:db8::1", "10.0.0.0/24", "10.0.0.128/25"`),
    );
    only(report, /spec\.addresses\[0\]: "2001:db8::9-2001:db8::1" is reversed/);
    only(report, /spec\.addresses\[2\]: "10\.0\.0\.128\/25" overlaps spec\.addresses\[1\]/);
  });

  it("reports interface regexes the controller or the agents cannot compile", () => {
    const report = validate(
      pool("lan", `{addresses: ["10.0.0.0/24"], announce: Local, interfaces: ["bond(", "\\\\e"]}`),
      "apiVersion: herald.dev/v1alpha1\nkind: AgentConfig\nmetadata: {name: default}\nspec: {localInterfaces: ['^eth', '[']}\n",
    );
    only(report, /spec\.interfaces\[0\]: "bond\(" is not a valid regex/);
    only(
      report,
      /spec\.interfaces\[1\]: interface regex "\\\\e" is invalid: .*the agents ignore it/,
    );
    only(
      report,
      /AgentConfig "default": spec\.localInterfaces\[1\]: interface regex "\[" is invalid/,
    );
  });
});

describe("pools that overlap", () => {
  it("names both and says the newer, by creationTimestamp, loses", () => {
    const report = validate(
      localPool("new", `"10.0.0.128/25"`, `, creationTimestamp: "2024-06-01T00:00:00Z"`),
      localPool("old", `"10.0.0.0/24"`, `, creationTimestamp: "2024-01-01T00:00:00Z"`),
    );
    const problem = only(report, /overlaps/);
    assert.equal(problem.name, "new");
    assert.equal(problem.field, "spec.addresses[0]");
    assert.match(
      problem.message,
      /^Conflict: 10\.0\.0\.128\/25 overlaps 10\.0\.0\.0\/24 of the older pool "old"; this pool hands out no new addresses/,
    );
    assert.match(problem.message, /it was created after "old"/);
  });

  it("counts a pool without creationTimestamp as the newer", () => {
    const report = validate(
      localPool("b", `"10.0.0.0/24"`),
      localPool("a", `"10.1.0.0/24", "10.0.0.7"`, `, creationTimestamp: "2024-01-01T00:00:00Z"`),
    );
    const problem = only(report, /overlaps/);
    assert.equal(problem.name, "b");
    assert.match(problem.message, /it has no creationTimestamp, so it is created after "a"/);
  });

  it("says both conflict when neither has a creationTimestamp", () => {
    const problem = only(
      validate(localPool("a", `"10.0.0.0/24"`), localPool("b", `"10.0.0.7"`)),
      /overlaps/,
    );
    assert.equal(problem.name, "b");
    assert.match(
      problem.message,
      /of pool "a"; neither has a creationTimestamp, so whichever of the two is created later/,
    );
  });
});

const peer = (name: string, extra = "", labels = "{}") => `
apiVersion: herald.dev/v1alpha1
kind: BGPPeer
metadata: {name: ${name}, labels: ${labels}}
spec: {peerAddress: 10.0.0.1, peerASN: 65000, localASN: 65001${extra}}
---`;

const advertisement = (name: string, spec: string) => `
apiVersion: herald.dev/v1alpha1
kind: BGPAdvertisement
metadata: {name: ${name}}
spec: ${spec}
---`;

describe("BGP objects", () => {
  const routed = pool(
    "routed",
    `{addresses: ["10.50.0.0/28"], announce: Routed}`,
    ", labels: {bgp: up}",
  );

  it("refuses advertisements naming pools or peers not in the input", () => {
    const report = validate(
      routed,
      peer("tor"),
      advertisement("a", "{pools: [routed, gone], peers: [tor, nope]}"),
    );
    only(
      report,
      /BGPAdvertisement "a": spec\.pools\[1\]: names AddressPool "gone", which is not in the input/,
    );
    only(report, /spec\.peers\[1\]: names BGPPeer "nope", which is not in the input/);
    assert.equal(report.problems.length, 2);
  });

  it("refuses selectors that select nothing, or that no label could match", () => {
    const report = validate(
      routed,
      peer("tor"),
      advertisement(
        "a",
        `{poolSelector: {matchLabels: {bgp: down}}, peerSelector: {matchLabels: {"bad key": x}}}`,
      ),
      advertisement("b", "{pools: [routed]}"),
    );
    only(report, /"a": spec\.poolSelector: selects no AddressPool in the input/);
    only(report, /"a": spec\.peerSelector\.matchLabels: label key "bad key" is invalid/);
  });

  it("warns when an advertisement for every peer meets an input with no peer", () => {
    const problem = only(validate(routed, advertisement("a", "{}")), /every BGPPeer/);
    assert.equal(problem.severity, "warning");
  });

  it("warns about a Routed pool no advertisement selects, unless routing is External", () => {
    const report = validate(routed, localPool("lan", `"10.70.0.0/28"`));
    assert.equal(
      only(report, /"routed": spec\.announce: announce is Routed, but no BGPAdvertisement/)
        .severity,
      "warning",
    );
    assert.equal(report.problems.length, 1);
    assertClean(
      validate(
        routed,
        "apiVersion: herald.dev/v1alpha1\nkind: AgentConfig\nmetadata: {name: default}\nspec: {routing: External}\n",
      ),
    );
    assertClean(
      validate(routed, peer("tor"), advertisement("a", "{poolSelector: {matchLabels: {bgp: up}}}")),
    );
  });

  it("leaves an Auto pool without advertisement alone: its nodes may all announce it locally", () => {
    assertClean(validate(pool("auto", `{addresses: ["10.60.0.0/28"]}`)));
    assertClean(validate(pool("auto", `{addresses: ["10.60.0.0/28"], announce: Auto}`)));
  });

  it("refuses a peer's nodeSelector that no node label could match", () => {
    only(
      validate(peer("tor", ", nodeSelector: {matchExpressions: [{key: -x, operator: Exists}]}")),
      /spec\.nodeSelector\.matchExpressions\[0\]\.key: label key "-x" is invalid/,
    );
  });

  describe("password Secrets", () => {
    const withSecret = (ref: string) => peer("tor", `, passwordSecretRef: ${ref}`);
    const secret = (data: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata: {name: bgp, namespace: herald-system}\n${data}\n`;

    it("warns when the Secret is not in the input: it may well live elsewhere", () => {
      const problem = only(validate(withSecret("{namespace: herald-system, name: bgp}")), /Secret/);
      assert.equal(problem.severity, "warning");
      assert.equal(
        problem.message,
        'Secret herald-system/bgp is not in the input; the agents read the TCP MD5 password from its key "password"',
      );
    });

    it("refuses a Secret that lacks the key", () => {
      const problem = only(
        validate(
          withSecret("{namespace: herald-system, name: bgp, key: md5}"),
          secret("data: {password: eA==}"),
        ),
        /has no key/,
      );
      assert.equal(problem.severity, "error");
      assert.equal(problem.field, "spec.passwordSecretRef.key");
      assert.match(
        problem.message,
        /^Secret herald-system\/bgp \(in1\.yaml\) has no key "md5"; its keys are password$/,
      );
    });

    it("refuses a password BIRD cannot write, or too long for TCP MD5", () => {
      const ref = "{namespace: herald-system, name: bgp}";
      only(
        validate(withSecret(ref), secret(`stringData: {password: 'a"b'}`)),
        /contains a double quote/,
      );
      only(
        validate(withSecret(ref), secret(`stringData: {password: ${"x".repeat(81)}}`)),
        /longer than the 80 bytes/,
      );
      only(validate(withSecret(ref), secret(`data: {password: ""}`)), /is empty/);
    });
  });
});

describe("Services, as the controller would allocate them", () => {
  const lan = localPool("lan", `"192.168.10.240-192.168.10.241"`);

  it("reports a malformed request with the InvalidRequest condition's message", () => {
    const problem = only(
      validate(lan, service("web", "", `{herald.dev/addresses: "192.168.10.240,banana"}`)),
      /InvalidRequest/,
    );
    assert.equal(problem.field, "metadata.annotations[herald.dev/addresses]");
    assert.equal(
      problem.message,
      'InvalidRequest: herald.dev/addresses lists "banana", which is not an IP address',
    );
  });

  it("reports a requested address outside every pool", () => {
    const problem = only(
      validate(lan, service("web", ", loadBalancerIP: 203.0.113.10")),
      /NoMatchingPool/,
    );
    assert.equal(problem.field, "spec.loadBalancerIP");
    assert.equal(
      problem.message,
      "NoMatchingPool: spec.loadBalancerIP asks for 203.0.113.10, which is in no AddressPool",
    );
  });

  it("reports a pool annotation, ours or a peer's, naming a missing pool", () => {
    const problem = only(
      validate(lan, service("web", "", "{metallb.universe.tf/address-pool: gone}")),
      /NoMatchingPool/,
    );
    assert.equal(problem.field, "metadata.annotations[metallb.universe.tf/address-pool]");
    assert.match(problem.message, /names pool "gone", which does not exist$/);
  });

  it("reports a requested address another service holds without a common sharing key", () => {
    const report = validate(
      lan,
      service("a", "", `{herald.dev/addresses: 192.168.10.240, herald.dev/sharing-key: x}`),
      service("b", "", `{herald.dev/addresses: 192.168.10.240, herald.dev/sharing-key: y}`),
    );
    const problem = only(report, /SharingConflict/);
    assert.equal(problem.name, "shop/b");
    assert.match(problem.message, /whose sharing key is "x", not "y"$/);
  });

  it("warns when services with one sharing key cannot share, and get an address each", () => {
    const report = validate(
      lan,
      service("a", "", "{herald.dev/sharing-key: k}"),
      service("b", "", "{herald.dev/sharing-key: k}"),
    );
    const problem = only(report, /sharing key/);
    assert.equal(problem.severity, "warning");
    assert.match(
      problem.message,
      /^shares sharing key "k" with shop\/a but gets an address of its own: .*also uses TCP\/80$/,
    );
  });

  it("reports exhausted pools and addresses given up, as the controller would", () => {
    const report = validate(
      lan,
      service("a") + service("b") + service("c"),
      `apiVersion: v1\nkind: Service\nmetadata: {name: held, namespace: shop}\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 10.9.9.9}]}}\n`,
    );
    only(report, /"shop\/c": PoolExhausted: pool "lan" has no free IPv4 address left/);
    assert.equal(only(report, /gave up 10\.9\.9\.9/).severity, "warning");
  });

  it("without pools in the input, checks only what the request says", () => {
    const report = validate(
      service("a", ", loadBalancerIP: 203.0.113.10"),
      service("b", ", ipFamilyPolicy: Sometimes"),
    );
    only(
      report,
      /"shop\/b": spec\.ipFamilyPolicy: InvalidRequest: spec\.ipFamilyPolicy "Sometimes" must be/,
    );
    assert.equal(report.problems.length, 1);
  });

  it("leaves services of another class alone", () => {
    assertClean(
      validate(
        lan,
        service("other", ", loadBalancerClass: example.com/lb, loadBalancerIP: 1.2.3.4"),
      ),
    );
  });
});

it("lists problems in input order, each document's together", () => {
  const report = validate(
    `${service("web", ", loadBalancerIP: 203.0.113.10")}${localPool("lan", `"10.0.0.5/24"`)}`,
    localPool("ok", `"10.1.0.0/24"`),
  );
  assert.deepEqual(
    report.problems.map((p) => p.source),
    ["in0.yaml (document 1)", "in0.yaml (document 2)"],
  );
});
