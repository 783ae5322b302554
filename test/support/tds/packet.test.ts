import { describe, expect, it } from "vitest";
import { ByteWriter } from "./byte-writer.js";
import { TdsProtocolError } from "./errors.js";
import { encodeMessage, PacketReader, PacketStatus, PacketType } from "./packet.js";

describe("packet framing", () => {
  it("splits a message at the packet size, numbers the packets and marks the last one", () => {
    const payload = Buffer.alloc(1000, 7);
    const bytes = encodeMessage(PacketType.REPLY, payload, 512, 53);
    // 504 bytes of payload per 512-byte packet: 504 + 496.
    expect(bytes.readUInt16BE(2)).toBe(512);
    expect(bytes.readUInt8(1)).toBe(0);
    expect(bytes.readUInt16BE(4)).toBe(53);
    expect(bytes.readUInt8(6)).toBe(1);
    expect(bytes.readUInt8(512 + 1)).toBe(PacketStatus.END_OF_MESSAGE);
    expect(bytes.readUInt16BE(512 + 2)).toBe(8 + 496);
    expect(bytes.readUInt8(512 + 6)).toBe(2);
    expect(bytes.length).toBe(1000 + 16);
  });

  it("sends an empty message as one packet", () => {
    const bytes = encodeMessage(PacketType.REPLY, Buffer.alloc(0), 4096, 51);
    expect([...bytes]).toEqual([0x04, 0x01, 0x00, 0x08, 0x00, 0x33, 0x01, 0x00]);
  });

  it("reassembles messages from arbitrary chunks, byte by byte", () => {
    const first = encodeMessage(PacketType.SQL_BATCH, Buffer.from("select 1", "utf16le"), 16, 0);
    const second = encodeMessage(PacketType.RPC, Buffer.alloc(40, 1), 32, 0);
    const stream = Buffer.concat([first, second]);
    const reader = new PacketReader();
    const messages = [...stream].flatMap((byte) => reader.push(Buffer.from([byte])));
    expect(messages.map((m) => [m.type, m.payload.length])).toEqual([
      [PacketType.SQL_BATCH, 16],
      [PacketType.RPC, 40],
    ]);
    expect(messages[0]?.payload.toString("utf16le")).toBe("select 1");
  });

  it("keeps the first packet's status (RESETCONNECTION) and flags IGNOREd messages", () => {
    const packet = (status: number, body: number[]) =>
      Buffer.from([PacketType.SQL_BATCH, status, 0, 8 + body.length, 0, 0, 1, 0, ...body]);
    const reader = new PacketReader();
    const [reset] = reader.push(Buffer.concat([packet(PacketStatus.RESET_CONNECTION, [1]), packet(1, [2])]));
    expect(reset).toMatchObject({ status: PacketStatus.RESET_CONNECTION, ignored: false });
    expect([...(reset?.payload ?? [])]).toEqual([1, 2]);
    const [ignored] = reader.push(packet(PacketStatus.END_OF_MESSAGE | PacketStatus.IGNORE, [3]));
    expect(ignored?.ignored).toBe(true);
  });

  it("delivers an attention packet that arrives between the packets of another message", () => {
    const reader = new PacketReader();
    const batch = encodeMessage(PacketType.SQL_BATCH, Buffer.alloc(20, 9), 16, 0);
    const attention = encodeMessage(PacketType.ATTENTION, Buffer.alloc(0), 4096, 0);
    const messages = reader.push(Buffer.concat([batch.subarray(0, 16), attention, batch.subarray(16)]));
    expect(messages.map((m) => m.type)).toEqual([PacketType.ATTENTION, PacketType.SQL_BATCH]);
  });

  it("rejects impossible packet lengths", () => {
    expect(() => new PacketReader().push(Buffer.from([0x01, 0x01, 0x00, 0x04, 0, 0, 1, 0]))).toThrow(
      TdsProtocolError,
    );
  });
});

describe("ByteWriter", () => {
  it("keeps every write when it grows (offsets are taken before the buffer is replaced)", () => {
    const writer = new ByteWriter();
    const text = "x".repeat(200);
    for (let i = 0; i < 20; i++) writer.u8(i).usVarchar(text).u32le(0xdeadbeef);
    const out = writer.toBuffer();
    const recordLength = 1 + 2 + 400 + 4;
    expect(out.length).toBe(20 * recordLength);
    for (let i = 0; i < 20; i++) {
      const at = i * recordLength;
      expect(out.readUInt8(at)).toBe(i);
      expect(out.readUInt16LE(at + 1)).toBe(200);
      expect(out.readUInt32LE(at + 403)).toBe(0xdeadbeef);
    }
  });
});
