import type { Socket } from "node:net";
import tls from "node:tls";
import { DEFAULT_PACKET_SIZE, encodeMessage, PacketReader, PacketType, type TdsMessage } from "./packet.js";
import type { EncryptionMode } from "./records.js";
import { TlsBridge } from "./tls-bridge.js";
import { TlsInPrelogin } from "./tls-in-prelogin.js";

// The byte layer of one connection: plain TDS, TDS 7.x with TLS negotiated inside PRELOGIN, or
// TDS 8.0 strict (TLS from the first byte). Whatever the mode, complete TDS messages come out of
// `onMessage` and `send` frames replies at the current packet size.

const TLS_HANDSHAKE_RECORD = 0x16;

export interface TransportHandlers {
  onMessage(message: TdsMessage): void;
  /** Malformed packets or a TLS failure: the connection is unusable. */
  onFailure(error: unknown): void;
  onEncrypted(details: { mode: EncryptionMode; protocol: string | null; alpn: string | false }): void;
  /** The TLS handshake inside PRELOGIN finished; LOGIN7 arrives over TLS next. */
  onHandshakeDone(): void;
  onClose(): void;
}

export class SessionTransport {
  private reader = new PacketReader();
  private socketInput: (chunk: Buffer) => void;
  private output: (bytes: Buffer) => void;
  private tlsSocket: tls.TLSSocket | undefined;
  private handshake: TlsInPrelogin | undefined;
  /** Negotiated in LOGIN7; PRELOGIN and the TLS handshake use the default. */
  packetSize = DEFAULT_PACKET_SIZE;
  encryption: EncryptionMode = "off";

  constructor(
    private readonly socket: Socket,
    private readonly spid: number,
    private readonly certificate: { certificatePem: string; privateKeyPem: string },
    private readonly handlers: TransportHandlers,
  ) {
    this.output = (bytes) => socket.write(bytes);
    this.socketInput = (chunk) => this.onFirstChunk(chunk);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.socketInput(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.tlsSocket?.destroy();
      handlers.onClose();
    });
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  send(type: number, payload: Buffer): void {
    if (this.socket.destroyed) return;
    this.output(encodeMessage(type, payload, this.packetSize, this.spid));
  }

  /**
   * Like KILL: a TCP reset, not a FIN. (tedious 19 also copes better with a reset: a FIN during a
   * request makes it throw an unhandled "No event 'socketError' in state 'Final'" internally.)
   */
  reset(): void {
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  /**
   * Closes after a refused PRELOGIN or a failed login, as SQL Server does. The client normally hangs
   * up first (tedious does as soon as it has read the error); closing at once could make it see the
   * connection drop before it has parsed the error, so the server waits a moment.
   */
  closeSoon(): void {
    setTimeout(() => {
      if (this.socket.destroyed) return;
      if (this.tlsSocket) this.tlsSocket.end(() => this.socket.end());
      else this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }, 250).unref();
  }

  /** The client accepted encryption in PRELOGIN: its next PRELOGIN messages carry TLS records. */
  startTlsInPrelogin(): void {
    const handshake = new TlsInPrelogin(this.certificate, {
      sendFlight: (records) =>
        this.socket.write(encodeMessage(PacketType.PRELOGIN, records, DEFAULT_PACKET_SIZE, this.spid)),
      switchToRaw: () => {
        // From here the client speaks raw TLS: socket bytes go to the TLS socket, and TDS packets
        // come out of its cleartext side into a fresh reader.
        const leftover = this.reader.takeBuffered();
        this.reader = new PacketReader();
        this.socketInput = (records) => handshake.receive(records);
        if (leftover.length > 0) handshake.receive(leftover);
        this.handlers.onHandshakeDone();
        return (records) => this.socket.write(records);
      },
      onError: (error) => this.handlers.onFailure(error),
    });
    this.handshake = handshake;
    this.attachTls(handshake.socket, "tls");
  }

  /** The payload of a PRELOGIN message during the in-PRELOGIN handshake. */
  receiveHandshake(records: Buffer): void {
    this.handshake?.receive(records);
  }

  private onFirstChunk(chunk: Buffer): void {
    if (chunk.readUInt8(0) === TLS_HANDSHAKE_RECORD) {
      this.startStrictTls();
      this.socketInput(chunk);
      return;
    }
    this.socketInput = (next) => this.onPlainBytes(next);
    this.onPlainBytes(chunk);
  }

  /** TDS 8.0: TLS from the first byte, ALPN "tds/8.0", then PRELOGIN inside TLS. */
  private startStrictTls(): void {
    const bridge = new TlsBridge((records) => this.socket.write(records));
    const secure = new tls.TLSSocket(bridge, {
      isServer: true,
      secureContext: tls.createSecureContext({
        cert: this.certificate.certificatePem,
        key: this.certificate.privateKeyPem,
        minVersion: "TLSv1.2",
      }),
      ALPNProtocols: ["tds/8.0"],
    });
    this.attachTls(secure, "strict");
    this.socketInput = (records) => bridge.input(records);
  }

  private attachTls(secure: tls.TLSSocket, mode: EncryptionMode): void {
    this.tlsSocket = secure;
    this.encryption = mode;
    secure.on("data", (chunk: Buffer) => this.onPlainBytes(chunk));
    secure.on("error", (error) => this.handlers.onFailure(error));
    secure.on("secure", () =>
      this.handlers.onEncrypted({ mode, protocol: secure.getProtocol(), alpn: secure.alpnProtocol ?? false }),
    );
    this.output = (bytes) => secure.write(bytes);
  }

  private onPlainBytes(chunk: Buffer): void {
    let messages: TdsMessage[];
    try {
      messages = this.reader.push(chunk);
    } catch (error) {
      this.handlers.onFailure(error);
      return;
    }
    for (const message of messages) this.handlers.onMessage(message);
  }
}
