import { readAllHeaders } from "./all-headers.js";
import { ByteReader } from "./byte-reader.js";
import { TdsProtocolError } from "./errors.js";

// The two simple request messages: SQL batch (0x01) and transaction manager (0x0E). RPC has its
// own file (rpc.ts).

export interface SqlBatchRequest {
  text: string;
}

export function parseSqlBatch(payload: Buffer): SqlBatchRequest {
  const reader = new ByteReader(payload);
  // Clients before TDS 7.2 omit ALL_HEADERS; everything the stand-in speaks (7.4) sends it.
  readAllHeaders(reader);
  return { text: reader.bytes(reader.remaining).toString("utf16le") };
}

export const TransactionRequestType = {
  BEGIN: 5,
  PROMOTE: 6,
  COMMIT: 7,
  ROLLBACK: 8,
  SAVE: 9,
} as const;

export type TransactionRequest =
  | { kind: "begin"; isolationLevel: number; name: string }
  | { kind: "commit"; name: string; beginNew: boolean }
  | { kind: "rollback"; name: string; beginNew: boolean }
  | { kind: "save"; name: string };

export function parseTransactionManager(payload: Buffer): TransactionRequest {
  const reader = new ByteReader(payload);
  readAllHeaders(reader);
  const type = reader.u16le();
  // Transaction names are B_VARCHAR-like but prefixed by their BYTE length.
  const name = () => reader.bytes(reader.u8()).toString("utf16le");
  switch (type) {
    case TransactionRequestType.BEGIN: {
      const isolationLevel = reader.u8();
      return { kind: "begin", isolationLevel, name: name() };
    }
    case TransactionRequestType.COMMIT:
    case TransactionRequestType.ROLLBACK: {
      const transactionName = name();
      const flags = reader.remaining > 0 ? reader.u8() : 0;
      return {
        kind: type === TransactionRequestType.COMMIT ? "commit" : "rollback",
        name: transactionName,
        beginNew: (flags & 0x01) !== 0,
      };
    }
    case TransactionRequestType.SAVE:
      return { kind: "save", name: name() };
    default:
      throw new TdsProtocolError(`unsupported transaction manager request ${type}`);
  }
}
