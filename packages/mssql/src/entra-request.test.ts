import { EventEmitter } from "node:events";
import {
  type NodeCallback as Callback,
  isSessionTokenExpiredError,
  type SessionTokenExpiredError,
} from "@entra-sql/driver-kit";
import { describe, expect, it } from "vitest";
import { poolLinks } from "./entra-connection-pool.js";
import { createRequestClass } from "./entra-request.js";
import type { EntraMssqlEvent } from "./options.js";

// The Request subclass against a fake of mssql's Request that plays scripted attempts: what the
// stand-in cannot produce (a refusal after rows were streamed) and the exact number of attempts.
// test/integration/mssql/session-token-expired*.test.ts run it against the real mssql and tedious.

/** One attempt: emits what a streamed mssql request would, then calls the completion callback. */
type Step = (request: FakeRequest, callback: Callback) => void;

class FakeRequest extends EventEmitter {
  stream: unknown = null;
  constructor(
    readonly parent: { script: Step[] },
    readonly attempts: string[] = [],
  ) {
    super();
  }
  #play(method: string, callback: Callback): void {
    this.attempts.push(method);
    const step = this.parent.script.shift();
    if (step === undefined) throw new Error("no attempt scripted");
    setImmediate(() => step(this, callback));
  }
  _query(_command: unknown, callback: Callback): void {
    this.#play("query", callback);
  }
  // Like tedious' Request: a batch runs through _query.
  _isBatch = false;
  _batch(batch: unknown, callback: Callback): void {
    this._isBatch = true;
    this._query(batch, callback);
  }
  _execute(_procedure: unknown, callback: Callback): void {
    this.#play("execute", callback);
  }
  _bulk(_table: unknown, _options: unknown, callback: Callback): void {
    this.#play("bulk", callback);
  }
}

const refusal = () =>
  Object.assign(
    new Error("Query cannot be executed, access token is expired. Please login with a new access token."),
    { number: 37396 },
  );

function setUp(script: Step[], parent: "pool" | "transaction" | "foreign" = "pool") {
  const events: EntraMssqlEvent[] = [];
  const fresh: object[] = [];
  const Request = createRequestClass(FakeRequest);
  const owner: Record<PropertyKey, unknown> = { script };
  if (parent === "pool") {
    // The pool's link, as far as the Request uses it: the fresh-connection demand and the event.
    const link = {
      retry: (requester: object, extra: object) => {
        fresh.push(requester);
        events.push({
          type: "statement-retried",
          reason: "session-token-expired",
          ...extra,
        } as EntraMssqlEvent);
      },
    };
    poolLinks.set(owner, link as never);
  }
  if (parent === "transaction") owner.commit = () => undefined;
  const request = new Request(owner) as unknown as FakeRequest & {
    _query(c: unknown, cb: Callback): void;
    _batch(c: unknown, cb: Callback): void;
  };
  const seen: Array<[string, unknown]> = [];
  for (const name of ["recordset", "row", "error"]) request.on(name, (value) => seen.push([name, value]));
  return { request, events, fresh, seen };
}

/** Runs `_query` or `_batch` and resolves with the completion callback's arguments. */
function run(
  request: { _query: (c: unknown, cb: Callback) => void },
  method: "_query" | "_batch" = "_query",
) {
  return new Promise<unknown[]>((resolve) =>
    (request as unknown as Record<string, (c: unknown, cb: Callback) => void>)[method]?.(
      "SELECT 1",
      (...args) => resolve(args),
    ),
  );
}

describe("streamed requests", () => {
  it("a refusal before any result is held back and the statement runs once more", async () => {
    const { request, events, fresh, seen } = setUp([
      (r, cb) => {
        r.emit("error", refusal());
        cb(null);
      },
      (r, cb) => {
        r.emit("recordset", {});
        r.emit("row", { id: 1 });
        cb(null);
      },
    ]);
    request.stream = true;
    const [error] = await run(request);
    expect(error).toBeNull();
    expect(seen).toEqual([
      ["recordset", {}],
      ["row", { id: 1 }],
    ]);
    expect(request.attempts).toEqual(["query", "query"]);
    expect(fresh).toEqual([request]);
    expect(events).toEqual([{ type: "statement-retried", reason: "session-token-expired", method: "query" }]);
  });

  it("a refusal after results were streamed is not retried: 'error' with a SessionTokenExpiredError (stream)", async () => {
    const { request, events, seen } = setUp([
      (r, cb) => {
        r.emit("recordset", {});
        r.emit("row", { id: 1 });
        r.emit("error", refusal());
        cb(null);
      },
    ]);
    request.stream = true;
    await run(request);
    expect(request.attempts).toEqual(["query"]);
    expect(events).toEqual([]);
    const errors = seen.filter(([name]) => name === "error").map(([, value]) => value);
    expect(errors).toHaveLength(1);
    const named = errors[0] as SessionTokenExpiredError;
    expect(isSessionTokenExpiredError(named)).toBe(true);
    expect(named.during).toBe("stream");
    expect(named.message).toMatch(/had already delivered results, so it was not run again/);
    expect((named.cause as Error).message).toMatch(/access token is expired/);
  });

  it("inside a transaction: the 'error' event is named (transaction), nothing retried", async () => {
    const { request, seen } = setUp(
      [
        (r, cb) => {
          r.emit("error", refusal());
          cb(null);
        },
      ],
      "transaction",
    );
    request.stream = true;
    await run(request);
    expect(request.attempts).toEqual(["query"]);
    expect(seen.map(([name, value]) => [name, (value as SessionTokenExpiredError).during])).toEqual([
      ["error", "transaction"],
    ]);
  });
});

describe("completion callbacks", () => {
  it("a batch (which mssql runs through _query) is retried once, not once per method", async () => {
    const refused: Step = (_r, cb) => cb(refusal());
    const { request, events } = setUp([refused, refused]);
    const [error] = await run(request, "_batch");
    expect(request.attempts).toEqual(["query", "query"]);
    expect((error as SessionTokenExpiredError).during).toBe("retry");
    expect(events.map((e) => (e.type === "statement-retried" ? e.method : e.type))).toEqual(["batch"]);
  });

  it("a request on a pool of another module passes the driver's error through", async () => {
    const driverError = refusal();
    const { request, events } = setUp([(_r, cb) => cb(driverError)], "foreign");
    const [error] = await run(request);
    expect(error).toBe(driverError);
    expect(events).toEqual([]);
  });
});
