import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openUdp, type UdpEndpoint } from "./udp.ts";

interface Received {
  packet: string;
  address: string;
  port: number;
}

async function endpoint(
  address: string,
): Promise<{ udp: UdpEndpoint; received: Received[]; next: () => Promise<Received> }> {
  const received: Received[] = [];
  let waiting: ((r: Received) => void) | undefined;
  const udp = await openUdp({
    address,
    port: 0,
    onMessage: (packet, from, port) => {
      const r = { packet: packet.toString(), address: from, port };
      received.push(r);
      waiting?.(r);
      waiting = undefined;
    },
    onError: (error) => assert.fail(error),
  });
  const next = () => new Promise<Received>((resolve) => (waiting = resolve));
  return { udp, received, next };
}

describe("openUdp", () => {
  for (const address of ["127.0.0.1", "::1"]) {
    it(`sends and receives over ${address}`, async () => {
      const a = await endpoint(address);
      const b = await endpoint(address);
      try {
        const arrived = b.next();
        a.udp.send(Buffer.from("hello"), address, b.udp.port);
        assert.deepEqual(await arrived, { packet: "hello", address, port: a.udp.port });
      } finally {
        await a.udp.close();
        await b.udp.close();
      }
    });
  }

  it("talks to IPv4 peers from a dual-stack socket with their plain addresses", async () => {
    const dual = await endpoint("::");
    const v4 = await endpoint("127.0.0.1");
    try {
      const there = v4.next();
      dual.udp.send(Buffer.from("to v4"), "127.0.0.1", v4.udp.port);
      assert.deepEqual(await there, { packet: "to v4", address: "127.0.0.1", port: dual.udp.port });
      const back = dual.next();
      v4.udp.send(Buffer.from("to dual"), "127.0.0.1", dual.udp.port);
      assert.deepEqual(await back, { packet: "to dual", address: "127.0.0.1", port: v4.udp.port });
    } finally {
      await dual.udp.close();
      await v4.udp.close();
    }
  });

  it("refuses a bind address that is not an IP literal, and ignores sends after close", async () => {
    await assert.rejects(
      openUdp({ address: "node-1", port: 0, onMessage: () => {}, onError: () => {} }),
      /not an IP address/,
    );
    const a = await endpoint("127.0.0.1");
    await a.udp.close();
    a.udp.send(Buffer.from("late"), "127.0.0.1", 9);
    await a.udp.close();
  });
});
