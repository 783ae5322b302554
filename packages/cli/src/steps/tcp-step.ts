import { connect, type Socket } from "node:net";
import { duration } from "../format.js";
import { failed, type StepOutcome } from "../step.js";

// Step 3b: a TCP connection to the server's port, trying each resolved address in turn.

export interface TcpStepValue {
  outcome: StepOutcome;
  /** The address that answered. */
  address?: string;
}

/** Opens a TCP connection, or rejects with Node's error (ETIMEDOUT after `timeoutInMs`). */
export function openSocket(address: string, port: number, timeoutInMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no answer within ${duration(timeoutInMs)}`), { code: "ETIMEDOUT" }));
    }, timeoutInMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    socket.once("error", onError);
  });
}

export async function tcpStep(
  addresses: readonly string[],
  port: number,
  timeoutInMs: number,
): Promise<TcpStepValue> {
  const tried: string[] = [];
  for (const address of addresses) {
    try {
      const socket = await openSocket(address, port, timeoutInMs);
      socket.destroy();
      return {
        address,
        outcome: {
          verdict: "ok",
          summary: `connected to ${address}:${port}`,
          details: tried,
          data: { address, port },
        },
      };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      tried.push(
        `${address}:${port}: ${typeof code === "string" ? code : ""} ${(error as Error).message}`.trim(),
      );
    }
  }
  const refused = tried.some((line) => line.includes("ECONNREFUSED"));
  return {
    outcome: failed(
      "tcp",
      refused ? `nothing accepts connections on port ${port}` : `no answer on port ${port}`,
      tried,
      refused
        ? `The server is down or listens on another port: check --port (Azure SQL: 1433) and that the server is running.`
        : "A firewall or network rule drops the packets: allow outbound TCP 1433 (and 11000-11999 for Azure SQL's redirect policy), check VPN/proxy.",
      { port, tried },
    ),
  };
}
