import { describe, expect, it } from "vitest";
import { Encryption, PacketReader, packet, parsePreloginAnswer, preloginRequest } from "./prelogin.js";

// PRELOGIN bytes as [MS-TDS] 2.2.6.5 lays them out.

describe("PRELOGIN", () => {
  it("the request: one PRELOGIN packet, end of message, ENCRYPTION ON, FEDAUTHREQUIRED", () => {
    const request = preloginRequest();
    expect([request[0], request[1]]).toEqual([0x12, 0x01]);
    expect(request.readUInt16BE(2)).toBe(request.length);
    const payload = request.subarray(8);
    const options = new Map<number, Buffer>();
    for (let at = 0; payload[at] !== 0xff; at += 5) {
      const offset = payload.readUInt16BE(at + 1);
      options.set(payload[at] ?? -1, payload.subarray(offset, offset + payload.readUInt16BE(at + 3)));
    }
    expect([...options.keys()]).toEqual([0, 1, 2, 3, 4, 6]);
    expect(options.get(1)).toEqual(Buffer.from([Encryption.ON]));
    expect(options.get(6)).toEqual(Buffer.from([1]));
  });

  it("reads the answer's version and encryption; ignores what it does not know", () => {
    const table = Buffer.from([0x00, 0, 16, 0, 6, 0x01, 0, 22, 0, 1, 0x05, 0, 23, 0, 0, 0xff]);
    const data = Buffer.from([12, 0, 0x07, 0xd0, 0, 0, Encryption.REQ]);
    expect(parsePreloginAnswer(Buffer.concat([table, data]))).toEqual({
      encryption: Encryption.REQ,
      version: "12.0.2000",
    });
    expect(parsePreloginAnswer(Buffer.from([0xff]))).toEqual({ encryption: undefined, version: undefined });
  });

  it("PacketReader splits a stream into packets, across chunk boundaries", () => {
    const reader = new PacketReader();
    const stream = Buffer.concat([packet(0x04, Buffer.from("abc")), packet(0x04, Buffer.from("de"))]);
    expect(reader.push(stream.subarray(0, 5))).toEqual([]);
    const packets = reader.push(stream.subarray(5));
    expect(packets.map((p) => [p.type, p.payload.toString(), p.last])).toEqual([
      [0x04, "abc", true],
      [0x04, "de", true],
    ]);
    expect(() => new PacketReader().push(Buffer.from([4, 1, 0, 3, 0, 0, 0, 0]))).toThrow(/not a TDS packet/);
  });
});
