import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labInfo } from "./info.ts";
import { topology } from "./topology.ts";

describe("labInfo", () => {
  it("has exactly the shape scripts read", () => {
    const info = labInfo(
      topology({ name: "lab", nodes: 2, ipv6: false, index: 0 }),
      "/run/herald/lab-lab",
      ["node1", "node2"],
    );
    assert.deepEqual(info, {
      name: "lab",
      dir: "/run/herald/lab-lab",
      kubeconfig: "/run/herald/lab-lab/kubeconfig",
      apiServer: "http://198.18.0.2:6443",
      kube: { backend: "devkube", server: "devkube", proxy: "lab-backend", proxyMode: null },
      namespaces: {
        client: "hl-lab-client",
        lanclient: "hl-lab-lanclient",
        router: "hl-lab-router",
        lan: "hl-lab-lan",
        nodes: { node1: "hl-lab-node1", node2: "hl-lab-node2" },
      },
      nodes: [
        {
          name: "node1",
          namespace: "hl-lab-node1",
          interface: "eth0",
          ipv4: "198.18.0.11",
          ipv6: null,
          mac: "02:48:4c:00:00:0b",
        },
        {
          name: "node2",
          namespace: "hl-lab-node2",
          interface: "eth0",
          ipv4: "198.18.0.12",
          ipv6: null,
          mac: "02:48:4c:00:00:0c",
        },
      ],
      router: {
        lan: { ipv4: "198.18.0.1", ipv6: null },
        client: { ipv4: "198.18.1.1", ipv6: null },
      },
      client: { ipv4: "198.18.1.2", ipv6: null },
      lanclient: { ipv4: "198.18.0.3", ipv6: null },
      lan: { ipv4: "198.18.0.0/24", ipv6: null },
      localPool: { ipv4: "198.18.0.200-198.18.0.250", ipv6: null },
      routedPool: { ipv4: "198.19.0.0/24", ipv6: null },
      backends: {
        namespace: "default",
        labels: { app: "lab-web" },
        port: 80,
        nodes: ["node1", "node2"],
      },
      ipv6: false,
      bgp: {
        router: null,
        routerASN: 64512,
        nodeASN: 64513,
        routerAddress: { ipv4: "198.18.0.1", ipv6: null },
      },
    });
    // Key order is part of the shape people read.
    assert.deepEqual(Object.keys(info), [
      "name",
      "dir",
      "kubeconfig",
      "apiServer",
      "kube",
      "namespaces",
      "nodes",
      "router",
      "client",
      "lanclient",
      "lan",
      "localPool",
      "routedPool",
      "backends",
      "ipv6",
      "bgp",
    ]);
  });

  it("names the router's BGP daemon and where nodes peer", () => {
    const info = labInfo(
      topology({ name: "lab", nodes: 1, ipv6: true, index: 0, router: "frr" }),
      "/run/herald/lab-lab",
      [],
    );
    assert.deepEqual(info.bgp, {
      router: "frr",
      routerASN: 64512,
      nodeASN: 64513,
      routerAddress: { ipv4: "198.18.0.1", ipv6: "fd48:4c42::1" },
    });
  });

  it("says a real control plane and kube-proxy run, with an https API server", () => {
    const info = labInfo(
      topology({ name: "lab", nodes: 1, ipv6: false, index: 0, kube: "real" }),
      "/run/herald/lab-lab",
      [],
    );
    assert.equal(info.apiServer, "https://198.18.0.2:6443");
    assert.deepEqual(info.kube, {
      backend: "real",
      server: "kube-apiserver",
      proxy: "kube-proxy",
      proxyMode: "nftables",
    });
    const iptables = labInfo(
      topology({
        name: "lab",
        nodes: 1,
        ipv6: false,
        index: 0,
        kube: "real",
        proxyMode: "iptables",
      }),
      "/run/herald/lab-lab",
      [],
    );
    assert.equal(iptables.kube.proxyMode, "iptables");
  });
});
