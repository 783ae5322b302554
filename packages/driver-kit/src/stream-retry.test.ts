import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RetryPool } from "./connection-lifecycle.js";
import { isSessionTokenExpiredError } from "./session-token-expired-error.js";
import { type StreamSink, streamWithOneRetry } from "./stream-retry.js";
import { expectNoTokenIn } from "./test-support/fake-jwt.js";
import {
  type FakeConnection,
  lifecycleHarness,
  SERVER,
  succeedingAttempt,
} from "./test-support/lifecycle-harness.js";

// A streamed query refused with 37396, on a hand-written caller's stream that records what reaches it,
// and a scripted driver run. Fake clock; connections log in through a real lifecycle.

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const refusal = () =>
  Object.assign(
    new Error(
      "Query cannot be executed, access token is expired. Please login with a new access token and execute query again.",
    ),
    { number: 37396, code: "EREQUEST" },
  );

/** The caller's stream: records rows, ends and emitted events. */
class FakeStream implements StreamSink {
  readonly rows: unknown[] = [];
  ends = 0;
  readonly errors: unknown[] = [];
  readonly otherEvents: string[] = [];
  destroyed = false;

  write(row: unknown): boolean {
    this.rows.push(row);
    return true;
  }
  end(): unknown {
    this.ends++;
    return this;
  }
  emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === "error") this.errors.push(args[0]);
    else this.otherEvents.push(String(event));
    return true;
  }
}

/** One scripted run of the driver: what it writes to the sink, and how its promise settles. */
type Script = (sink: StreamSink, connection: FakeConnection) => Promise<unknown>;

let h: ReturnType<typeof lifecycleHarness<FakeConnection>>;
let stream: FakeStream;
let runs: FakeConnection[];

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  h = lifecycleHarness<FakeConnection>({ maxAgeInMs: 30 * 60_000 });
  stream = new FakeStream();
  runs = [];
});
afterEach(() => {
  h.lifecycle.close();
  vi.useRealTimers();
  expectNoTokenIn([h.events, stream.errors], h.tokens.issued);
});

const attempt = succeedingAttempt();
const login = () => h.lifecycle.login({ server: SERVER }, attempt);

/** A pool that logs a new connection in, 1 s later, on each acquire; releases like a pool would. */
function freshPool() {
  const pool = {
    released: [] as FakeConnection[],
    maxTries: 3,
    async acquire(): Promise<FakeConnection> {
      vi.setSystemTime(Date.now() + 1000);
      return await login();
    },
    async release(connection: FakeConnection): Promise<void> {
      pool.released.push(connection);
      h.lifecycle.onRelease(connection);
    },
  } satisfies RetryPool<FakeConnection> & Record<string, unknown>;
  return pool;
}

/** Runs the stream with `scripts` as the driver's successive runs. */
async function streamed(scripts: Script[], inTransaction = false) {
  const connection = await login();
  h.lifecycle.isUsable(connection);
  const pool = freshPool();
  const outcome = await streamWithOneRetry(h.lifecycle, {
    connection,
    stream,
    inTransaction: () => inTransaction,
    pool,
    run: (runOn, sink) => {
      runs.push(runOn);
      const script = scripts[runs.length - 1];
      if (script === undefined) throw new Error("no more runs scripted");
      return script(sink, runOn);
    },
  }).then(
    () => ({ rejected: false as const, error: undefined }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  return { connection, pool, ...outcome };
}

const rowsThenEnd =
  (...rows: unknown[]): Script =>
  async (sink) => {
    for (const row of rows) sink.write(row);
    sink.end();
  };
/** A driver that writes `rows`, then reports the refusal on the stream, ends it, and rejects. */
const refusedAfter =
  (...rows: unknown[]): Script =>
  async (sink) => {
    for (const row of rows) sink.write(row);
    const error = refusal();
    sink.emit("error", error);
    sink.end();
    throw error;
  };
const retriedEvents = () => h.events.filter((event) => event.type === "statement-retried");

describe("streamWithOneRetry", () => {
  it("passes rows and the end through when nothing is refused", async () => {
    const { rejected, pool } = await streamed([rowsThenEnd(1, 2)]);
    expect(rejected).toBe(false);
    expect(stream).toMatchObject({ rows: [1, 2], ends: 1, errors: [] });
    expect(runs).toHaveLength(1);
    expect(pool.released).toEqual([]);
    expect(retriedEvents()).toEqual([]);
  });

  it("runs a query refused before any row once more, on a connection born after the refusal", async () => {
    const { rejected, connection, pool } = await streamed([refusedAfter(), rowsThenEnd("a", "b")]);
    expect(rejected).toBe(false);
    expect(stream).toMatchObject({ rows: ["a", "b"], ends: 1, errors: [] });
    expect(runs).toHaveLength(2);
    const fresh = runs[1] as FakeConnection;
    expect(fresh).not.toBe(connection);
    expect(h.lifecycle.stampOf(fresh)?.bornAt).toBeGreaterThan(T0);
    expect(h.lifecycle.isSessionExpired(connection)).toBe(true);
    expect(pool.released).toEqual([connection, fresh]);
    expect(h.closed).toEqual([connection]);
    expect(retriedEvents()).toHaveLength(1);
  });

  it("also retries when the driver resolves after reporting the refusal", async () => {
    const reportsOnly: Script = async (sink) => {
      sink.emit("error", refusal());
      sink.end();
    };
    const { rejected } = await streamed([reportsOnly, rowsThenEnd("a")]);
    expect(rejected).toBe(false);
    expect(stream).toMatchObject({ rows: ["a"], ends: 1, errors: [] });
  });

  it('names a refusal after rows ("stream"): not run again, the rows are not repeated', async () => {
    const { rejected, error, connection } = await streamed([refusedAfter(1), rowsThenEnd(1, 2)]);
    expect(rejected).toBe(true);
    expect(isSessionTokenExpiredError(error)).toBe(true);
    expect(error).toMatchObject({ during: "stream", cause: expect.objectContaining({ number: 37396 }) });
    expect(stream.errors).toEqual([error]);
    expect(stream.rows).toEqual([1]);
    expect(stream.ends).toBe(0);
    expect(runs).toEqual([connection]);
    expect(h.lifecycle.isSessionExpired(connection)).toBe(true);
    expect(retriedEvents()).toEqual([]);
  });

  it('names a refusal inside a transaction ("transaction"), even before any row', async () => {
    const { error } = await streamed([refusedAfter(), rowsThenEnd(1)], true);
    expect(error).toMatchObject({ name: "SessionTokenExpiredError", during: "transaction" });
    expect(stream.errors).toEqual([error]);
    expect(runs).toHaveLength(1);
  });

  it('names a second refusal ("retry") on the caller\'s stream', async () => {
    const { rejected, error, pool } = await streamed([refusedAfter(), refusedAfter()]);
    expect(rejected).toBe(true);
    expect(error).toMatchObject({ name: "SessionTokenExpiredError", during: "retry" });
    expect(stream.errors).toEqual([error]);
    expect(stream.rows).toEqual([]);
    expect(stream.ends).toBe(0);
    expect(runs).toHaveLength(2);
    expect(pool.released).toHaveLength(2);
  });

  it("does not run again for a stream the caller destroyed meanwhile", async () => {
    const destroyedWhileRefused: Script = async (sink) => {
      stream.destroyed = true;
      return refusedAfter()(sink, runs[0] as FakeConnection);
    };
    const { rejected } = await streamed([destroyedWhileRefused, rowsThenEnd(1)]);
    expect(rejected).toBe(false);
    expect(runs).toHaveLength(1);
    expect(stream).toMatchObject({ rows: [], ends: 0, errors: [] });
  });

  it("leaves other errors to the driver: reported once, never retried", async () => {
    const other = new Error("Invalid object name 'users'.");
    const failing: Script = async (sink) => {
      sink.emit("error", other);
      throw other;
    };
    const first = await streamed([failing]);
    expect(first).toMatchObject({ rejected: true, error: other });
    expect(stream.errors).toEqual([other]);
    expect(runs).toHaveLength(1);

    stream = new FakeStream();
    runs = [];
    const second = await streamed([refusedAfter(), failing]);
    expect(second).toMatchObject({ rejected: true, error: other });
    expect(stream.errors).toEqual([other]); // once, by the driver
    expect(runs).toHaveLength(2);
  });
});
