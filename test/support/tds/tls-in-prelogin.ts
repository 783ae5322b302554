import { constants as cryptoConstants } from "node:crypto";
import tls from "node:tls";
import { TlsBridge } from "./tls-bridge.js";

// TDS 7.x encryption: after the PRELOGIN exchange, the TLS handshake runs INSIDE PRELOGIN packets
// (MS-TDS 3.3.5.2), then TLS records flow raw on the socket. Two pitfalls shape this file:
// - tedious wraps each of its flights in one PRELOGIN message and waits for exactly ONE message in
//   reply, so the server's whole flight must go out as one message: we parse the TLS records the
//   server TLSSocket writes and flush when the flight is complete (ServerHelloDone for the first
//   flight; ChangeCipherSpec followed by the encrypted Finished record for the last).
// - Node emits 'secure' on the server socket before it has written that last flight, so the switch
//   to raw TLS is driven by the records seen, not by the event.
// The handshake is capped at TLS 1.2 (tedious caps it too) and session tickets are off, so the
// flights are always the two of a full TLS 1.2 handshake.

const RecordType = { CHANGE_CIPHER_SPEC: 0x14, ALERT: 0x15, HANDSHAKE: 0x16 } as const;
const HANDSHAKE_SERVER_HELLO_DONE = 0x0e;

export interface TlsInPreloginHandlers {
  /** Send one complete server flight, wrapped in a single PRELOGIN message. */
  sendFlight(records: Buffer): void;
  /**
   * The last flight went out wrapped: from now on TLS records go raw on the socket. Returns the raw
   * writer; the session also starts feeding socket bytes to `receive` unwrapped.
   */
  switchToRaw(): (records: Buffer) => void;
  onError(error: Error): void;
}

export class TlsInPrelogin {
  /** The cleartext side: TDS packets after the handshake (LOGIN7 onwards). */
  readonly socket: tls.TLSSocket;
  private readonly bridge: TlsBridge;
  private pendingOutput: Buffer = Buffer.alloc(0);
  private flight: Buffer[] = [];
  private plainHandshake: Buffer = Buffer.alloc(0);
  private sawChangeCipherSpec = false;
  private rawOutput: ((records: Buffer) => void) | undefined;

  constructor(
    context: { certificatePem: string; privateKeyPem: string },
    private readonly handlers: TlsInPreloginHandlers,
  ) {
    this.bridge = new TlsBridge((chunk) => this.onServerRecords(chunk));
    this.socket = new tls.TLSSocket(this.bridge, {
      isServer: true,
      secureContext: tls.createSecureContext({
        cert: context.certificatePem,
        key: context.privateKeyPem,
        minVersion: "TLSv1.2",
        maxVersion: "TLSv1.2",
      }),
      // No tickets: keeps the handshake at the two flights handled above.
      secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
    });
    this.socket.on("error", (error) => handlers.onError(error));
  }

  /** TLS records from the client: a PRELOGIN payload during the handshake, raw socket bytes after. */
  receive(records: Buffer): void {
    this.bridge.input(records);
  }

  private onServerRecords(chunk: Buffer): void {
    this.pendingOutput = this.pendingOutput.length ? Buffer.concat([this.pendingOutput, chunk]) : chunk;
    while (this.pendingOutput.length >= 5) {
      const length = this.pendingOutput.readUInt16BE(3);
      if (this.pendingOutput.length < 5 + length) break;
      const record = this.pendingOutput.subarray(0, 5 + length);
      this.pendingOutput = this.pendingOutput.subarray(5 + length);
      this.onRecord(record);
      if (this.rawOutput) {
        // Anything written after the Finished record is already application data.
        const rest = this.pendingOutput;
        this.pendingOutput = Buffer.alloc(0);
        if (rest.length > 0) this.rawOutput(rest);
        return;
      }
    }
  }

  private onRecord(record: Buffer): void {
    const type = record.readUInt8(0);
    this.flight.push(record);
    if (type === RecordType.ALERT) {
      this.flushFlight();
      return;
    }
    if (type === RecordType.CHANGE_CIPHER_SPEC) {
      this.sawChangeCipherSpec = true;
      return;
    }
    if (type !== RecordType.HANDSHAKE) return;
    if (this.sawChangeCipherSpec) {
      // The encrypted Finished: the server's last flight is complete.
      this.flushFlight();
      const rawOutput = this.handlers.switchToRaw();
      this.rawOutput = rawOutput;
      this.bridge.setOutput(rawOutput);
      return;
    }
    // Plaintext handshake messages may span records: walk them to find ServerHelloDone.
    this.plainHandshake = Buffer.concat([this.plainHandshake, record.subarray(5)]);
    while (this.plainHandshake.length >= 4) {
      const messageType = this.plainHandshake.readUInt8(0);
      const messageLength = this.plainHandshake.readUIntBE(1, 3);
      if (this.plainHandshake.length < 4 + messageLength) break;
      this.plainHandshake = this.plainHandshake.subarray(4 + messageLength);
      if (messageType === HANDSHAKE_SERVER_HELLO_DONE) this.flushFlight();
    }
  }

  private flushFlight(): void {
    if (this.flight.length === 0) return;
    const records = Buffer.concat(this.flight);
    this.flight = [];
    this.handlers.sendFlight(records);
  }
}
