import type { ConnectionEvent } from "../connection-events.js";
import { ConnectionLifecycle } from "../connection-lifecycle.js";
import { type ConnectionOptions, resolveConnectionOptions } from "../connection-options.js";
import type { LoginAttempt, TokenAuthentication } from "../token-login.js";
import { FakeTokenSource } from "./fake-token-source.js";

// A ConnectionLifecycle over a counting FakeTokenSource (given, so not owned), recording the events it
// emits and the connections it closes. Connections are whatever the test's login attempt answers.

export const PACKAGE = "@entra-sql/test-adapter";
/** A host whose scope is the public cloud's SQL scope. */
export const SERVER = "myserver.database.windows.net";

/** A plain connection object; `closedBy` counts the lifecycle's closeConnection calls on it. */
export interface FakeConnection {
  readonly serial: number;
  closedBy: number;
}

/** `onClose`: what closing a connection does besides counting (e.g. call its own `close()`). */
export function lifecycleHarness<C extends object = FakeConnection>(
  options: Omit<ConnectionOptions, "tokenSource" | "onEvent"> = {},
  onClose?: (connection: C) => void,
) {
  const tokens = new FakeTokenSource();
  const events: ConnectionEvent[] = [];
  const closed: C[] = [];
  const resolved = resolveConnectionOptions(
    {
      maxAgeJitterRatio: 0,
      ...options,
      tokenSource: tokens,
      onEvent: (event: ConnectionEvent) => events.push(event),
    },
    PACKAGE,
  );
  const lifecycle = new ConnectionLifecycle<C>({
    options: resolved,
    closeConnection: (connection) => {
      closed.push(connection);
      if ("closedBy" in connection && typeof connection.closedBy === "number") connection.closedBy++;
      onClose?.(connection);
    },
  });
  return { tokens, events, closed, lifecycle, resolved };
}

/** A login attempt that answers a new FakeConnection, recording what it was handed. */
export function succeedingAttempt(handed: TokenAuthentication[] = []): LoginAttempt<FakeConnection> {
  let serial = 0;
  return async (authentication) => {
    handed.push(authentication);
    return { serial: ++serial, closedBy: 0 };
  };
}
