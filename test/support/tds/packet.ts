import { TdsProtocolError } from "./errors.js";

// TDS packet framing (MS-TDS 2.2.3). Every message travels as one or more packets with an 8-byte
// header; the length is BIG-endian (the only big-endian field in the protocol besides PRELOGIN's
// option table). A message ends at the packet whose status has END_OF_MESSAGE set.

export const PacketType = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  REPLY: 0x04,
  ATTENTION: 0x06,
  BULK_LOAD: 0x07,
  FEDAUTH_TOKEN: 0x08,
  TRANSACTION_MANAGER: 0x0e,
  LOGIN7: 0x10,
  SSPI: 0x11,
  PRELOGIN: 0x12,
} as const;

export const PacketStatus = {
  END_OF_MESSAGE: 0x01,
  /** The client abandoned the message (cancel before it was fully sent): the server discards it. */
  IGNORE: 0x02,
  RESET_CONNECTION: 0x08,
  RESET_CONNECTION_SKIP_TRAN: 0x10,
} as const;

export const HEADER_LENGTH = 8;
/** Packet size before LOGIN7 negotiates one (PRELOGIN and the TLS handshake use it). */
export const DEFAULT_PACKET_SIZE = 4096;
export const MIN_PACKET_SIZE = 512;
export const MAX_PACKET_SIZE = 32767;

export interface TdsMessage {
  type: number;
  /** Status bits of the first packet (RESET_CONNECTION lives there). */
  status: number;
  /** Set when the last packet carried IGNORE: the client cancelled before finishing the message. */
  ignored: boolean;
  payload: Buffer;
}

/**
 * Reassembles messages from a byte stream that may split or merge packets arbitrarily (TCP, or the
 * cleartext side of TLS). Push bytes in, take complete messages out.
 */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private firstStatus: number | undefined;
  private messageType: number | undefined;

  constructor(private readonly maxPacketSize = MAX_PACKET_SIZE) {}

  /** Bytes received but not yet part of a complete packet (handed over when the transport switches). */
  takeBuffered(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  push(chunk: Buffer): TdsMessage[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: TdsMessage[] = [];
    while (this.pending.length >= HEADER_LENGTH) {
      const type = this.pending.readUInt8(0);
      const status = this.pending.readUInt8(1);
      const length = this.pending.readUInt16BE(2);
      if (length < HEADER_LENGTH || length > this.maxPacketSize) {
        throw new TdsProtocolError(`invalid packet length ${length} (type 0x${type.toString(16)})`);
      }
      if (this.pending.length < length) break;
      const body = this.pending.subarray(HEADER_LENGTH, length);
      this.pending = this.pending.subarray(length);

      if (this.messageType === undefined) {
        this.messageType = type;
        this.firstStatus = status;
      } else if (this.messageType !== type && type !== PacketType.ATTENTION) {
        throw new TdsProtocolError(
          `packet type 0x${type.toString(16)} inside a 0x${this.messageType.toString(16)} message`,
        );
      }
      if (type === PacketType.ATTENTION && this.messageType !== PacketType.ATTENTION) {
        // An attention signal may arrive between the packets of a message the client is still
        // sending; it is a message of its own.
        messages.push({ type, status, ignored: false, payload: Buffer.from(body) });
        continue;
      }
      this.parts.push(Buffer.from(body));
      if ((status & PacketStatus.END_OF_MESSAGE) !== 0) {
        messages.push({
          type: this.messageType,
          status: this.firstStatus ?? status,
          ignored: (status & PacketStatus.IGNORE) !== 0,
          payload: Buffer.concat(this.parts),
        });
        this.parts = [];
        this.messageType = undefined;
        this.firstStatus = undefined;
      }
    }
    return messages;
  }
}

/**
 * Splits a message payload into packets of at most `packetSize` bytes (header included), the size
 * the client asked for in LOGIN7, and numbers them.
 */
export function encodeMessage(type: number, payload: Buffer, packetSize: number, spid: number): Buffer {
  const room = packetSize - HEADER_LENGTH;
  const count = Math.max(1, Math.ceil(payload.length / room));
  const out = Buffer.alloc(payload.length + count * HEADER_LENGTH);
  let at = 0;
  for (let index = 0; index < count; index++) {
    const body = payload.subarray(index * room, (index + 1) * room);
    out.writeUInt8(type, at);
    out.writeUInt8(index === count - 1 ? PacketStatus.END_OF_MESSAGE : 0, at + 1);
    out.writeUInt16BE(body.length + HEADER_LENGTH, at + 2);
    out.writeUInt16BE(spid & 0xffff, at + 4);
    out.writeUInt8((index + 1) & 0xff, at + 6);
    out.writeUInt8(0, at + 7);
    body.copy(out, at + HEADER_LENGTH);
    at += body.length + HEADER_LENGTH;
  }
  return out;
}
