import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { inspect } from "node:util";
import { TOKEN_SOURCE_CHANNEL, type TokenSourceDiagnostic } from "@entra-sql/core";
import { CONNECTION_CHANNEL, type ConnectionDiagnostic } from "@entra-sql/driver-kit";
import { expect } from "vitest";
import { tokenLeaks } from "./defect-fixtures.js";

// What the documented diagnostics channels publish during a test, for the leak tests and the channel
// integration test: every payload of both channels, in order, until stop().

export interface RecordedDiagnostics {
  tokenSource: TokenSourceDiagnostic[];
  connection: ConnectionDiagnostic[];
  stop(): void;
}

export function recordDiagnostics(): RecordedDiagnostics {
  const tokenSource: TokenSourceDiagnostic[] = [];
  const connection: ConnectionDiagnostic[] = [];
  const onToken = (message: unknown) => tokenSource.push(message as TokenSourceDiagnostic);
  const onConnection = (message: unknown) => connection.push(message as ConnectionDiagnostic);
  subscribe(TOKEN_SOURCE_CHANNEL, onToken);
  subscribe(CONNECTION_CHANNEL, onConnection);
  return {
    tokenSource,
    connection,
    stop() {
      unsubscribe(TOKEN_SOURCE_CHANNEL, onToken);
      unsubscribe(CONNECTION_CHANNEL, onConnection);
    },
  };
}

/**
 * Both channels published (a token fetched, a connection opened), and no payload shows any of
 * `tokens`, a JWT or `secret` in util.inspect.
 */
export function expectDiagnosticsWithoutSecrets(
  recorded: RecordedDiagnostics,
  tokens: readonly string[],
  secret: string,
): void {
  expect(recorded.tokenSource.map((event) => event.type)).toContain("token-acquired");
  expect(recorded.connection.map((event) => event.type)).toContain("connection-opened");
  for (const payload of [...recorded.tokenSource, ...recorded.connection]) {
    const printed = inspect(payload, { depth: 10 });
    expect(tokenLeaks(printed, tokens), `inspect of a ${payload.type} payload`).toEqual([]);
    expect(printed.includes(secret), `the client secret in a ${payload.type} payload`).toBe(false);
  }
}
