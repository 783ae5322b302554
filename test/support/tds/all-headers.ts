import type { ByteReader } from "./byte-reader.js";
import { TdsProtocolError } from "./errors.js";

// ALL_HEADERS (MS-TDS 2.2.5.3) opens SQL batch, RPC and transaction manager requests: a u32 total
// length, then headers of (u32 length, u16 type, data). Type 2 carries the 8-byte transaction
// descriptor the client believes is current, plus its outstanding request count.

const TRANSACTION_DESCRIPTOR_HEADER = 0x0002;

export interface AllHeaders {
  transactionDescriptor: Buffer | undefined;
}

export function readAllHeaders(reader: ByteReader): AllHeaders {
  const start = reader.offset;
  const total = reader.u32le();
  if (total < 4 || start + total > reader.buffer.length) {
    throw new TdsProtocolError(`ALL_HEADERS length ${total} does not fit the message`);
  }
  let transactionDescriptor: Buffer | undefined;
  while (reader.offset < start + total) {
    const headerStart = reader.offset;
    const length = reader.u32le();
    const type = reader.u16le();
    if (type === TRANSACTION_DESCRIPTOR_HEADER) transactionDescriptor = Buffer.from(reader.bytes(8));
    reader.offset = headerStart + length;
  }
  reader.offset = start + total;
  return { transactionDescriptor };
}
