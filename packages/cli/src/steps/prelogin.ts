import type { Duplex } from "node:stream";

// The client side of TDS PRELOGIN ([MS-TDS] 2.2.6.5), as much as the TLS probe needs: the request
// tedious sends with `encrypt: true`, the server's answer, and packet framing. Packet header: type,
// status (0x01 = end of message), length (u16 big-endian, header included), spid, packet id, window.

export const PacketType = { PRELOGIN: 0x12, REPLY: 0x04 } as const;
const HEADER_LENGTH = 8;
const END_OF_MESSAGE = 0x01;

/** PRELOGIN ENCRYPTION values. */
export const Encryption = { OFF: 0, ON: 1, NOT_SUP: 2, REQ: 3 } as const;

export interface PreloginAnswer {
  /** ENCRYPTION: 0 off (login only), 1 on, 2 not supported, 3 required. */
  encryption: number | undefined;
  /** VERSION, e.g. "12.0.2000". */
  version: string | undefined;
}

/** One TDS packet around `payload`. */
export function packet(type: number, payload: Uint8Array, packetId = 1): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header[0] = type;
  header[1] = END_OF_MESSAGE;
  header.writeUInt16BE(HEADER_LENGTH + payload.length, 2);
  header[6] = packetId & 0xff;
  return Buffer.concat([header, payload]);
}

/** The PRELOGIN request: version 0, ENCRYPTION = ON, no instance, thread id 0, MARS off, FEDAUTHREQUIRED. */
export function preloginRequest(): Buffer {
  const options: Array<[number, Buffer]> = [
    [0x00, Buffer.from([0, 0, 0, 0, 0, 0])],
    [0x01, Buffer.from([Encryption.ON])],
    [0x02, Buffer.from([0])],
    [0x03, Buffer.alloc(4)],
    [0x04, Buffer.from([0])],
    [0x06, Buffer.from([1])],
  ];
  const tableLength = options.length * 5 + 1;
  const table = Buffer.alloc(tableLength);
  let offset = tableLength;
  options.forEach(([id, data], index) => {
    table[index * 5] = id;
    table.writeUInt16BE(offset, index * 5 + 1);
    table.writeUInt16BE(data.length, index * 5 + 3);
    offset += data.length;
  });
  table[tableLength - 1] = 0xff;
  return packet(PacketType.PRELOGIN, Buffer.concat([table, ...options.map(([, data]) => data)]));
}

/** Reads the server's PRELOGIN answer (the payload of one REPLY message). */
export function parsePreloginAnswer(payload: Buffer): PreloginAnswer {
  const answer: PreloginAnswer = { encryption: undefined, version: undefined };
  for (let at = 0; at + 5 <= payload.length && payload[at] !== 0xff; at += 5) {
    const id = payload[at];
    const offset = payload.readUInt16BE(at + 1);
    const length = payload.readUInt16BE(at + 3);
    if (offset + length > payload.length) break;
    if (id === 0x01 && length >= 1) answer.encryption = payload[offset];
    if (id === 0x00 && length >= 4) {
      answer.version = `${payload[offset]}.${payload[offset + 1]}.${payload.readUInt16BE(offset + 2)}`;
    }
  }
  return answer;
}

/**
 * Splits a byte stream into TDS packets. `push` returns the payloads of the complete packets
 * received so far, with whether each ended a message.
 */
export class PacketReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ type: number; payload: Buffer; last: boolean }> {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const packets: Array<{ type: number; payload: Buffer; last: boolean }> = [];
    while (this.buffered.length >= HEADER_LENGTH) {
      const length = this.buffered.readUInt16BE(2);
      if (length < HEADER_LENGTH) throw new Error(`not a TDS packet (length ${length})`);
      if (this.buffered.length < length) break;
      packets.push({
        type: this.buffered[0] ?? 0,
        payload: this.buffered.subarray(HEADER_LENGTH, length),
        last: ((this.buffered[1] ?? 0) & END_OF_MESSAGE) !== 0,
      });
      this.buffered = this.buffered.subarray(length);
    }
    return packets;
  }
}

/** Sends PRELOGIN on `socket` and resolves the answer, or rejects when the socket ends or fails first. */
export function exchangePrelogin(socket: Duplex): Promise<PreloginAnswer> {
  return new Promise((resolve, reject) => {
    const reader = new PacketReader();
    const parts: Buffer[] = [];
    const cleanup = () => {
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      try {
        for (const received of reader.push(chunk)) {
          parts.push(received.payload);
          if (received.last) {
            cleanup();
            resolve(parsePreloginAnswer(Buffer.concat(parts)));
            return;
          }
        }
      } catch (error) {
        cleanup();
        reject(error);
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("the server closed the connection before answering PRELOGIN"));
    };
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.write(preloginRequest());
  });
}
