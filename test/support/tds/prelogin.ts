import { ByteReader } from "./byte-reader.js";
import { TdsProtocolError } from "./errors.js";

// PRELOGIN (MS-TDS 2.2.6.5): an option table of (id u8, offset u16 BE, length u16 BE) entries
// ended by 0xFF, followed by the option data. Offsets count from the start of the payload.

export const PreloginOption = {
  VERSION: 0x00,
  ENCRYPTION: 0x01,
  INSTOPT: 0x02,
  THREADID: 0x03,
  MARS: 0x04,
  TRACEID: 0x05,
  FEDAUTHREQUIRED: 0x06,
  NONCEOPT: 0x07,
  TERMINATOR: 0xff,
} as const;

export const Encryption = {
  OFF: 0x00,
  ON: 0x01,
  NOT_SUP: 0x02,
  REQ: 0x03,
} as const;

export interface PreloginRequest {
  encryption: number | undefined;
  instance: string | undefined;
  threadId: number | undefined;
  mars: number | undefined;
  fedAuthRequired: number | undefined;
}

export function parsePrelogin(payload: Buffer): PreloginRequest {
  const reader = new ByteReader(payload);
  const options = new Map<number, Buffer>();
  for (;;) {
    const id = reader.u8();
    if (id === PreloginOption.TERMINATOR) break;
    const offset = reader.u16be();
    const length = reader.u16be();
    if (offset + length > payload.length) {
      throw new TdsProtocolError(`PRELOGIN option 0x${id.toString(16)} points past the payload`);
    }
    options.set(id, payload.subarray(offset, offset + length));
  }
  const byte = (id: number): number | undefined => {
    const data = options.get(id);
    return data && data.length > 0 ? data.readUInt8(0) : undefined;
  };
  const instance = options.get(PreloginOption.INSTOPT);
  const thread = options.get(PreloginOption.THREADID);
  return {
    encryption: byte(PreloginOption.ENCRYPTION),
    instance: instance ? instance.toString("latin1").replace(/\0.*$/s, "") : undefined,
    threadId: thread && thread.length >= 4 ? thread.readUInt32BE(0) : undefined,
    mars: byte(PreloginOption.MARS),
    fedAuthRequired: byte(PreloginOption.FEDAUTHREQUIRED),
  };
}

export interface PreloginResponse {
  /** Server version announced to the client: Azure SQL reports 12.0.x. */
  version: { major: number; minor: number; build: number; subBuild: number };
  encryption: number;
  /** Echo FEDAUTHREQUIRED when the client sent it, so it sets the echo bit in LOGIN7's FEDAUTH feature. */
  fedAuthRequired: number | undefined;
}

export function buildPreloginResponse(response: PreloginResponse): Buffer {
  const version = Buffer.alloc(6);
  version.writeUInt8(response.version.major, 0);
  version.writeUInt8(response.version.minor, 1);
  version.writeUInt16BE(response.version.build, 2);
  version.writeUInt16BE(response.version.subBuild, 4);
  const entries: Array<[number, Buffer]> = [
    [PreloginOption.VERSION, version],
    [PreloginOption.ENCRYPTION, Buffer.from([response.encryption])],
    // 0 = "this is the instance you asked for" (a default instance answers like this).
    [PreloginOption.INSTOPT, Buffer.from([0])],
    // The server sends an empty THREADID and MARS off: the stand-in serves one request at a time.
    [PreloginOption.THREADID, Buffer.alloc(0)],
    [PreloginOption.MARS, Buffer.from([0])],
  ];
  if (response.fedAuthRequired !== undefined) {
    entries.push([PreloginOption.FEDAUTHREQUIRED, Buffer.from([response.fedAuthRequired])]);
  }
  const tableLength = entries.length * 5 + 1;
  const dataLength = entries.reduce((sum, [, data]) => sum + data.length, 0);
  const out = Buffer.alloc(tableLength + dataLength);
  let entryAt = 0;
  let dataAt = tableLength;
  for (const [id, data] of entries) {
    out.writeUInt8(id, entryAt);
    out.writeUInt16BE(dataAt, entryAt + 1);
    out.writeUInt16BE(data.length, entryAt + 3);
    data.copy(out, dataAt);
    entryAt += 5;
    dataAt += data.length;
  }
  out.writeUInt8(PreloginOption.TERMINATOR, entryAt);
  return out;
}
