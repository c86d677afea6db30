// The detector's socket: the only part of it that does I/O.
import { createSocket, type Socket } from "node:dgram";
import { isIPv4, isIPv6 } from "node:net";

export interface UdpEndpoint {
  /** The bound port (the one asked for, or the kernel's choice for 0). */
  readonly port: number;
  /** Fire and forget: a heartbeat that cannot be sent is as good as lost. */
  send(packet: Buffer, address: string, port: number): void;
  close(): Promise<void>;
}

export interface UdpOptions {
  /** An IPv4 or IPv6 literal; "::" takes both families where the kernel allows. */
  address: string;
  port: number;
  /** `address` is plain IPv4 for IPv4 senders, also on a dual-stack socket. */
  onMessage(packet: Buffer, address: string, port: number): void;
  onError(error: Error): void;
}

const MAPPED = "::ffff:";

// Without a callback a failed send becomes the socket's "error" event. An unreachable peer
// or a full buffer loses one heartbeat, which the protocol absorbs: not worth a log line.
const ignoreSendError = (): void => {};

export async function openUdp(options: UdpOptions): Promise<UdpEndpoint> {
  const ipv6 = isIPv6(options.address);
  if (!ipv6 && !isIPv4(options.address))
    throw new Error(`detector bind address ${options.address} is not an IP address`);
  const socket: Socket = createSocket({ type: ipv6 ? "udp6" : "udp4", reuseAddr: false });
  socket.on("message", (packet, remote) => {
    const address =
      ipv6 && remote.address.startsWith(MAPPED) && isIPv4(remote.address.slice(MAPPED.length))
        ? remote.address.slice(MAPPED.length)
        : remote.address;
    options.onMessage(packet, address, remote.port);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port, options.address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", options.onError);
  const port = socket.address().port;
  let closed = false;
  return {
    port,
    send(packet, address, to) {
      if (closed) return;
      // A dual-stack socket reaches IPv4 peers only through their mapped addresses.
      const destination = ipv6 && isIPv4(address) ? MAPPED + address : address;
      socket.send(packet, to, destination, ignoreSendError);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
