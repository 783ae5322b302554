import { once } from "node:events";
import type http from "node:http";
import type https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { ListenerName } from "./endpoints.js";

// One listening socket on 127.0.0.1 that can be taken down and brought back on the same port: an
// "outage" must look to clients like the real thing (ECONNREFUSED, dropped keep-alive connections),
// not like an HTTP error.

export class Listener {
  readonly name: ListenerName;
  readonly #server: http.Server | https.Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #state: "new" | "listening" | "suspended" | "closed" = "new";

  /** `onError` receives server errors after start-up (which would otherwise crash the process). */
  constructor(name: ListenerName, server: http.Server | https.Server, onError: (error: Error) => void) {
    this.name = name;
    this.#server = server;
    server.on("error", (error: Error) => {
      if (this.#state === "listening") onError(error);
    });
    // Raw TCP sockets (for HTTPS, before TLS): destroying them is what drops keep-alive connections
    // and half-finished handshakes during an outage.
    server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  get port(): number {
    return this.#port;
  }

  get state(): "new" | "listening" | "suspended" | "closed" {
    return this.#state;
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => {
        this.#server.off("listening", onListening);
        reject(error);
      };
      const onListening = () => {
        this.#server.off("error", onError);
        resolve();
      };
      this.#server.once("error", onError);
      this.#server.once("listening", onListening);
      this.#server.listen({ port, host: "127.0.0.1", exclusive: true });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#state = "listening";
    return this.#port;
  }

  /** Stop accepting and drop every connection, synchronously. */
  suspend(): void {
    if (this.#state !== "listening") return;
    this.#state = "suspended";
    this.#server.close();
    this.#dropConnections();
  }

  /** Listen again on the same port. */
  async resume(): Promise<void> {
    if (this.#state !== "suspended") return;
    await this.listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasListening = this.#state === "listening";
    this.#state = "closed";
    const closed = wasListening ? once(this.#server, "close") : Promise.resolve();
    if (wasListening) this.#server.close();
    this.#dropConnections();
    await closed;
  }

  #dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }
}
