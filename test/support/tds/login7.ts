import { ByteReader } from "./byte-reader.js";
import { TdsProtocolError } from "./errors.js";
import {
  FEDAUTH_FEATURE_ID,
  type FedAuthRequest,
  parseFedAuthFeature,
  UTF8_SUPPORT_FEATURE_ID,
} from "./fedauth.js";

// LOGIN7 (MS-TDS 2.2.6.4): a 94-byte fixed part whose (offset u16, length-in-characters u16) pairs
// point into the variable part. Offsets count from the start of the LOGIN7 payload.

const FIXED_LENGTH = 94;
const OPTION_FLAGS3_EXTENSION = 0x10;

export interface Login7 {
  tdsVersion: number;
  packetSize: number;
  clientPid: number;
  hostName: string;
  userName: string;
  /** Already de-obfuscated; empty for federated logins. */
  password: string;
  appName: string;
  serverName: string;
  libraryName: string;
  language: string;
  database: string;
  fedAuth: FedAuthRequest | undefined;
  utf8Support: boolean;
  /** Feature ids the client sent, in order (for diagnostics). */
  featureIds: number[];
}

export function parseLogin7(payload: Buffer): Login7 {
  if (payload.length < FIXED_LENGTH) {
    throw new TdsProtocolError(`LOGIN7 is ${payload.length} bytes, shorter than its fixed part`);
  }
  const fixed = new ByteReader(payload);
  fixed.u32le(); // total length
  const tdsVersion = fixed.u32le();
  const packetSize = fixed.u32le();
  fixed.u32le(); // client program version
  const clientPid = fixed.u32le();
  fixed.u32le(); // connection id
  fixed.u8(); // OptionFlags1
  fixed.u8(); // OptionFlags2
  fixed.u8(); // TypeFlags
  const optionFlags3 = fixed.u8();

  const text = (at: number, obfuscated = false): string => {
    const offset = payload.readUInt16LE(at);
    const chars = payload.readUInt16LE(at + 2);
    if (chars === 0) return "";
    const bytes = new ByteReader(payload, offset).bytes(chars * 2);
    return (obfuscated ? deobfuscatePassword(bytes) : bytes).toString("utf16le");
  };

  let fedAuth: FedAuthRequest | undefined;
  let utf8Support = false;
  const featureIds: number[] = [];
  if ((optionFlags3 & OPTION_FLAGS3_EXTENSION) !== 0) {
    // ibExtension points at a u32 holding the offset of the FeatureExt block.
    const extensionAt = payload.readUInt16LE(56);
    const features = new ByteReader(payload, new ByteReader(payload, extensionAt).u32le());
    for (;;) {
      const id = features.u8();
      if (id === 0xff) break;
      const data = features.bytes(features.u32le());
      featureIds.push(id);
      if (id === FEDAUTH_FEATURE_ID) fedAuth = parseFedAuthFeature(data);
      if (id === UTF8_SUPPORT_FEATURE_ID) utf8Support = data.length > 0 && (data.readUInt8(0) & 0x01) === 1;
    }
  }

  return {
    tdsVersion,
    packetSize,
    clientPid,
    hostName: text(36),
    userName: text(40),
    password: text(44, true),
    appName: text(48),
    serverName: text(52),
    libraryName: text(60),
    language: text(64),
    database: text(68),
    fedAuth,
    utf8Support,
    featureIds,
  };
}

/** Clients swap each byte's nibbles and XOR with 0xA5 (MS-TDS 2.2.6.4); undo it. */
export function deobfuscatePassword(bytes: Buffer): Buffer {
  const out = Buffer.alloc(bytes.length);
  for (let index = 0; index < bytes.length; index++) {
    const value = (bytes[index] ?? 0) ^ 0xa5;
    out[index] = ((value & 0x0f) << 4) | (value >> 4);
  }
  return out;
}
