import { test } from "node:test";
import assert from "node:assert/strict";
import { CORE_SCHEMA, load } from "js-yaml";
import { ipvsStrictArpProblem } from "./kube-proxy.ts";

const parse = (text: string) => load(text, { schema: CORE_SCHEMA });

test("IPVS without strictARP is a problem; with it, or iptables mode, is not", () => {
  const ipvs =
    "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\n";
  assert.match(ipvsStrictArpProblem({ "config.conf": ipvs }, parse) ?? "", /strictARP: true/);
  assert.match(
    ipvsStrictArpProblem({ "config.conf": `${ipvs}ipvs:\n  strictARP: false\n` }, parse) ?? "",
    /IPVS/,
  );
  assert.equal(
    ipvsStrictArpProblem({ "config.conf": `${ipvs}ipvs:\n  strictARP: true\n` }, parse),
    undefined,
  );
  assert.equal(ipvsStrictArpProblem({ "config.conf": "mode: iptables\n" }, parse), undefined);
  assert.equal(ipvsStrictArpProblem({ "config.conf": 'mode: ""\n' }, parse), undefined);
  assert.equal(ipvsStrictArpProblem({}, parse), undefined);
  assert.equal(ipvsStrictArpProblem({ "config.conf": "mode: [unclosed" }, parse), undefined);
});
