// The failure detector on loopback at the default timing (100/300/700 ms), members spread
// over a few worker processes (this script, started with "worker"):
//   node bench/detector.ts [members...]        default 3 50 200
// For each cluster size: 10 s of steady state — CPU time of the worker processes per member,
// packets sent and received per member per second — then one member stopped, and the time
// until each other member sees it dead (median, p90, max).
// With DETECTOR_SOAK_SECONDS > 0, a soak follows: DETECTOR_SOAK_MEMBERS (50) members while
// one busy loop per core competes for every CPU and one worker's own event loop is blocked
// 40 ms in every 100; any death or isolation seen is false (nothing is stopped).
// `node bench/detector.ts attack [members]` (default 50): a member that holds the key
// (mallory, in the member list) sends every member, every 10 ms, a heartbeat naming every
// other member dead at the highest incarnation, for DETECTOR_ATTACK_SECONDS (10); measured:
// false deaths, packets per member per second against the same seconds at rest, and the
// time to see a member really stopped during the attack.
// Prints one JSON object.
import { createSecretKey } from "node:crypto";
import { createSocket } from "node:dgram";
import { fork, spawn, type ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { FailureDetector, type DetectorMember } from "../src/agent/detector/detector.ts";
import { encode, MAX_INCARNATION, type Message } from "../src/agent/detector/wire.ts";

const settings = { intervalMs: 100, suspicionMs: 300, timeoutMs: 700 };
const key = Buffer.from("benchmark key, 32 bytes long....");

type Request =
  | { op: "start"; names: string[]; members: DetectorMember[] }
  | { op: "sample" }
  | { op: "stop"; name: string }
  | { op: "block"; busyMs: number; everyMs: number }
  | { op: "exit" };

interface Sample {
  cpuMicros: number;
  sent: number;
  received: number;
  dropped: number;
  ready: number;
  members: number;
  suspicions: number;
  /** Largest lateness of a 10 ms timer, a measure of how starved the process is. */
  maxLagMs: number;
}

type Report =
  | { op: "reply"; id: number; value: unknown }
  | { op: "dead" | "alive"; observer: string; name: string; at: number }
  | { op: "isolated"; observer: string; at: number };

// ---- worker: a few members in one process ----

async function worker(): Promise<void> {
  const log = pino({ level: "silent" });
  const detectors = new Map<string, FailureDetector>();
  let suspicions = 0;
  let maxLagMs = 0;
  // Only in the soak: the timer itself costs CPU the steady-state figures should not show.
  if (process.env.DETECTOR_LAG === "1") {
    let expected = Date.now() + 10;
    setInterval(() => {
      maxLagMs = Math.max(maxLagMs, Date.now() - expected);
      expected = Date.now() + 10;
    }, 10);
  }
  const report = (message: Report) => process.send!(message);

  process.on("message", async (raw: { id: number; request: Request }) => {
    const { id, request } = raw;
    let value: unknown = null;
    switch (request.op) {
      case "start": {
        // Each member starts knowing them all (ports are handed out by the parent), as an
        // agent does: a member that learned of its watchers later than they of it would be
        // silent to them meanwhile, and rightly declared dead.
        for (const self of request.names) {
          const detector = await FailureDetector.start({
            self,
            bindAddress: "127.0.0.1",
            port: request.members.find((m) => m.name === self)!.port!,
            key,
            settings,
            log,
            members: request.members,
          });
          const seen = new Set<string>();
          let isolated = false;
          let suspects = 0;
          detector.onChange(() => {
            const view = detector.view();
            if (view.suspects.length > suspects) suspicions += view.suspects.length - suspects;
            suspects = view.suspects.length;
            for (const name of view.dead) {
              if (seen.has(name)) continue;
              seen.add(name);
              report({ op: "dead", observer: self, name, at: Date.now() });
            }
            for (const name of seen) {
              if (view.dead.includes(name)) continue;
              seen.delete(name);
              report({ op: "alive", observer: self, name, at: Date.now() });
            }
            if (detector.isolated() && !isolated)
              report({ op: "isolated", observer: self, at: Date.now() });
            isolated = detector.isolated();
          });
          detectors.set(self, detector);
        }
        break;
      }
      case "sample": {
        const cpu = process.cpuUsage();
        const sample: Sample = {
          cpuMicros: cpu.user + cpu.system,
          sent: 0,
          received: 0,
          dropped: 0,
          ready: 0,
          members: detectors.size,
          suspicions,
          maxLagMs,
        };
        for (const detector of detectors.values()) {
          const stats = detector.stats();
          sample.sent += stats.packetsSent;
          sample.received += stats.packetsReceived;
          sample.dropped += Object.values(stats.dropped).reduce((a, b) => a + b, 0);
          if (detector.ready()) sample.ready++;
        }
        maxLagMs = 0;
        value = sample;
        break;
      }
      case "stop": {
        const detector = detectors.get(request.name)!;
        const at = Date.now();
        await detector.stop();
        detectors.delete(request.name);
        value = at;
        break;
      }
      case "block":
        // Synchronous work in the agent's own process (a GC pause, a big list decoded):
        // the detector's timers and packets wait behind it.
        setInterval(() => {
          const end = Date.now() + request.busyMs;
          while (Date.now() < end);
        }, request.everyMs);
        break;
      case "exit":
        for (const detector of detectors.values()) await detector.stop();
        process.send!({ op: "reply", id, value: null } satisfies Report, () => process.exit(0));
        return;
    }
    report({ op: "reply", id, value });
  });
}

// ---- main: the scenarios ----

class Workers {
  readonly children: ChildProcess[] = [];
  /** member -> its worker */
  readonly home = new Map<string, ChildProcess>();
  readonly deaths: { observer: string; name: string; at: number }[] = [];
  readonly revivals: { observer: string; name: string; at: number }[] = [];
  readonly isolations: { observer: string; at: number }[] = [];
  #id = 0;
  #pending = new Map<number, (value: unknown) => void>();

  constructor(count: number, env: Record<string, string> = {}) {
    const script = fileURLToPath(import.meta.url);
    for (let i = 0; i < count; i++) {
      const child = fork(script, ["worker"], {
        stdio: ["ignore", "ignore", "inherit", "ipc"],
        env: { ...process.env, ...env },
      });
      child.on("message", (report: Report) => {
        if (report.op === "reply") this.#pending.get(report.id)?.(report.value);
        else if (report.op === "dead") this.deaths.push(report);
        else if (report.op === "alive") this.revivals.push(report);
        else this.isolations.push(report);
      });
      this.children.push(child);
    }
  }

  call<T>(child: ChildProcess, request: Request): Promise<T> {
    const id = ++this.#id;
    return new Promise<T>((resolve) => {
      this.#pending.set(id, (value) => {
        this.#pending.delete(id);
        resolve(value as T);
      });
      child.send({ id, request });
    });
  }

  all<T>(request: Request): Promise<T[]> {
    return Promise.all(this.children.map((child) => this.call<T>(child, request)));
  }

  /** Starts `names` on the workers; `extra` are members no worker runs (an attacker). */
  async start(names: string[], extra: DetectorMember[] = []): Promise<DetectorMember[]> {
    // Consecutive ports from a random base; a clash with a port in use fails the start.
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const members = [
      ...names.map((name, i) => ({ name, address: "127.0.0.1", port: base + i })),
      ...extra,
    ];
    await Promise.all(
      this.children.map(async (child, w) => {
        const mine = names.filter((_, i) => i % this.children.length === w);
        for (const name of mine) this.home.set(name, child);
        await this.call(child, { op: "start", names: mine, members });
      }),
    );
    return members;
  }

  async sample(): Promise<Sample> {
    const samples = await this.all<Sample>({ op: "sample" });
    return samples.reduce((a, b) => ({
      cpuMicros: a.cpuMicros + b.cpuMicros,
      sent: a.sent + b.sent,
      received: a.received + b.received,
      dropped: a.dropped + b.dropped,
      ready: a.ready + b.ready,
      members: a.members + b.members,
      suspicions: a.suspicions + b.suspicions,
      maxLagMs: Math.max(a.maxLagMs, b.maxLagMs),
    }));
  }

  async exit(): Promise<void> {
    await this.all({ op: "exit" });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const names = (n: number) =>
  Array.from({ length: n }, (_, i) => `node-${String(i).padStart(3, "0")}`);
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function untilReady(workers: Workers, members: number): Promise<number> {
  const start = Date.now();
  while ((await workers.sample()).ready < members) {
    if (Date.now() - start > 20_000) throw new Error("members not ready after 20 s");
    await sleep(50);
  }
  return Date.now() - start;
}

async function scenario(members: number, seconds: number): Promise<Record<string, unknown>> {
  const workers = new Workers(Math.min(members, 4));
  try {
    const all = names(members);
    await workers.start(all);
    await untilReady(workers, members);
    await sleep(2_000);
    // Members that start more than a timeout after those watching them are declared dead
    // until they do: counted apart.
    const deathsWhileStarting = workers.deaths.length;
    workers.deaths.length = 0;

    const before = await workers.sample();
    const startedAt = performance.now();
    await sleep(seconds * 1_000);
    const after = await workers.sample();
    const elapsed = (performance.now() - startedAt) / 1_000;
    const perMember = (x: number) => x / members / elapsed;
    const falseDeaths = workers.deaths.length;

    const victim = all[1]!;
    const stoppedAt = await workers.call<number>(workers.home.get(victim)!, {
      op: "stop",
      name: victim,
    });
    const deadline = Date.now() + 5_000;
    const seen = () => workers.deaths.filter((d) => d.name === victim);
    while (seen().length < members - 1 && Date.now() < deadline) await sleep(10);
    const times = seen()
      .map((d) => d.at - stoppedAt)
      .sort((a, b) => a - b);
    await sleep(500);
    const otherDeaths = workers.deaths.filter((d) => d.name !== victim).length;

    return {
      members,
      workerProcesses: workers.children.length,
      seconds: round(elapsed, 1),
      perMember: {
        cpuMillisPerSecond: round(perMember((after.cpuMicros - before.cpuMicros) / 1_000)),
        packetsSentPerSecond: round(perMember(after.sent - before.sent), 1),
        packetsReceivedPerSecond: round(perMember(after.received - before.received), 1),
      },
      deathsWhileStarting,
      dropped: after.dropped,
      suspicionsWhileSteady: after.suspicions - before.suspicions,
      falseDeathsWhileSteady: falseDeaths,
      detection: {
        seenBy: times.length,
        of: members - 1,
        medianMillis: times.length ? quantile(times, 0.5) : null,
        p90Millis: times.length ? quantile(times, 0.9) : null,
        maxMillis: times.length ? times.at(-1) : null,
        otherDeaths,
      },
    };
  } finally {
    await workers.exit();
  }
}

async function soak(members: number, seconds: number): Promise<Record<string, unknown>> {
  // One busy loop per core at the members' own priority: every worker competes for CPU.
  const burners = cpus().map(() =>
    spawn(process.execPath, ["-e", "for (;;);"], { stdio: "ignore" }),
  );
  const workers = new Workers(Math.min(members, 4), { DETECTOR_LAG: "1" });
  try {
    await workers.start(names(members));
    await untilReady(workers, members);
    await sleep(2_000);
    const deathsWhileStarting = workers.deaths.length;
    workers.deaths.length = 0;
    workers.isolations.length = 0;
    await workers.call(workers.children[0]!, { op: "block", busyMs: 40, everyMs: 100 });
    const before = await workers.sample();
    let maxLagMs = 0;
    const end = Date.now() + seconds * 1_000;
    while (Date.now() < end) {
      await sleep(Math.min(5_000, end - Date.now()));
      maxLagMs = Math.max(maxLagMs, (await workers.sample()).maxLagMs);
    }
    const after = await workers.sample();
    return {
      members,
      seconds,
      deathsWhileStarting,
      cpuBurners: burners.length,
      blockedWorker: "event loop busy 40 ms in every 100",
      maxTimerLagMillis: maxLagMs,
      suspicions: after.suspicions - before.suspicions,
      falseDeaths: workers.deaths.length,
      isolations: workers.isolations.length,
      packetsPerMemberPerSecond: round(
        (after.sent - before.sent + after.received - before.received) / members / seconds,
        1,
      ),
    };
  } finally {
    await workers.exit();
    for (const burner of burners) burner.kill("SIGKILL");
  }
}

/** Every member, every 10 ms: "all the others are dead at the highest incarnation". */
async function attack(members: number, seconds: number): Promise<Record<string, unknown>> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const mallory = { name: "mallory", address: "127.0.0.1", port: socket.address().port };
  const workers = new Workers(Math.min(members, 4));
  const signing = createSecretKey(key);
  const incarnation = Date.now();
  let seq = 0;
  let forged = 0;
  try {
    const all = names(members);
    const list = await workers.start(all, [mallory]);
    await untilReady(workers, members);
    await sleep(2_000);
    workers.deaths.length = 0;

    const measure = async (ms: number) => {
      const before = await workers.sample();
      const startedAt = performance.now();
      await sleep(ms);
      const after = await workers.sample();
      const elapsed = (performance.now() - startedAt) / 1_000;
      return {
        sentPerMemberPerSecond: round((after.sent - before.sent) / members / elapsed, 1),
        receivedPerMemberPerSecond: round(
          (after.received - before.received) / members / elapsed,
          1,
        ),
        cpuMillisPerMemberPerSecond: round(
          (after.cpuMicros - before.cpuMicros) / 1_000 / members / elapsed,
        ),
      };
    };
    const atRest = await measure(seconds * 1_000);

    // Sent in mallory's own name (it is a member, the key is its key), to each member, with
    // whatever fields this checkout's wire format has: the same script measures the
    // protocol before the fix.
    const flood = setInterval(() => {
      for (const target of list) {
        if (target.name === mallory.name) continue;
        const message = {
          type: "heartbeat",
          sender: mallory.name,
          receiver: target.name,
          incarnation,
          sentAt: Date.now(),
          seq: ++seq,
          rumours: all
            .filter((name) => name !== target.name)
            .map((name) => ({ name, incarnation: MAX_INCARNATION, dead: true })),
        } as Message;
        socket.send(encode(message, signing), target.port!, "127.0.0.1");
        forged++;
      }
    }, 10);
    const underAttack = await measure(seconds * 1_000);
    const falseDeaths = workers.deaths.length;
    const deadPairs = new Set(workers.deaths.map((d) => `${d.observer}>${d.name}`)).size;
    // How long each false death lasted: until the observer took the member back.
    const evictions = workers.deaths
      .map((death) => {
        const back = workers.revivals.find(
          (r) => r.observer === death.observer && r.name === death.name && r.at >= death.at,
        );
        return (back?.at ?? Date.now()) - death.at;
      })
      .sort((a, b) => a - b);

    // A real death while the flood goes on.
    workers.deaths.length = 0;
    const victim = all[1]!;
    const stoppedAt = await workers.call<number>(workers.home.get(victim)!, {
      op: "stop",
      name: victim,
    });
    const deadline = Date.now() + 5_000;
    const seen = () => workers.deaths.filter((d) => d.name === victim);
    const observers = () => new Set(seen().map((d) => d.observer)).size;
    while (observers() < members - 1 && Date.now() < deadline) await sleep(10);
    clearInterval(flood);
    const times = [...new Set(seen().map((d) => d.observer))]
      .map((observer) => seen().find((d) => d.observer === observer)!.at - stoppedAt)
      .sort((a, b) => a - b);
    return {
      members,
      seconds,
      attack: "one key holder; to every member every 10 ms: every other member dead at 2^48-1",
      forgedPacketsPerSecond: round(forged / (seconds + (Date.now() - stoppedAt) / 1_000), 0),
      atRest,
      underAttack,
      falseDeaths,
      observerMemberPairsTakenDead: deadPairs,
      falseDeathMillis: evictions.length
        ? { median: quantile(evictions, 0.5), max: evictions.at(-1) }
        : null,
      realDeathDuringAttack: {
        seenBy: times.length,
        of: members - 1,
        medianMillis: times.length ? quantile(times, 0.5) : null,
        maxMillis: times.length ? times.at(-1) : null,
      },
    };
  } finally {
    await workers.exit();
    socket.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === "attack") {
    const members = Number(process.argv[3] ?? 50);
    const seconds = Number(process.env.DETECTOR_ATTACK_SECONDS ?? 10);
    process.stdout.write(JSON.stringify({ settings, ...(await attack(members, seconds)) }) + "\n");
    return;
  }
  const sizes = process.argv.slice(2).map(Number);
  const seconds = Number(process.env.DETECTOR_SECONDS ?? 10);
  const result: Record<string, unknown> = { settings };
  for (const members of sizes.length ? sizes : [3, 50, 200])
    result[`members${members}`] = await scenario(members, seconds);
  const soakSeconds = Number(process.env.DETECTOR_SOAK_SECONDS ?? 0);
  if (soakSeconds > 0)
    result.soak = await soak(Number(process.env.DETECTOR_SOAK_MEMBERS ?? 50), soakSeconds);
  process.stdout.write(JSON.stringify(result) + "\n");
}

if (process.argv[2] === "worker") await worker();
else await main();
