// Structured logs on stderr (stdout belongs to a command's output).
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export function createLogger(level: LevelWithSilent = "info", name = "herald"): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
}
