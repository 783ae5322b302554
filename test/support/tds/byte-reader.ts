import { TdsProtocolError } from "./errors.js";

/**
 * A bounds-checked cursor over one complete TDS message. Every read that would run past the end
 * throws a TdsProtocolError, so a truncated or lying client message fails loudly instead of
 * producing garbage values.
 */
export class ByteReader {
  constructor(
    readonly buffer: Buffer,
    public offset = 0,
  ) {}

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private take(count: number): number {
    if (count < 0 || this.offset + count > this.buffer.length) {
      throw new TdsProtocolError(
        `message truncated: need ${count} byte(s) at offset ${this.offset}, ${this.remaining} left`,
      );
    }
    const at = this.offset;
    this.offset += count;
    return at;
  }

  u8(): number {
    return this.buffer.readUInt8(this.take(1));
  }

  u16le(): number {
    return this.buffer.readUInt16LE(this.take(2));
  }

  u16be(): number {
    return this.buffer.readUInt16BE(this.take(2));
  }

  i16le(): number {
    return this.buffer.readInt16LE(this.take(2));
  }

  u24le(): number {
    const at = this.take(3);
    return this.buffer.readUIntLE(at, 3);
  }

  u32le(): number {
    return this.buffer.readUInt32LE(this.take(4));
  }

  u32be(): number {
    return this.buffer.readUInt32BE(this.take(4));
  }

  i32le(): number {
    return this.buffer.readInt32LE(this.take(4));
  }

  u40le(): number {
    const at = this.take(5);
    return this.buffer.readUIntLE(at, 5);
  }

  u64le(): bigint {
    return this.buffer.readBigUInt64LE(this.take(8));
  }

  i64le(): bigint {
    return this.buffer.readBigInt64LE(this.take(8));
  }

  f32le(): number {
    return this.buffer.readFloatLE(this.take(4));
  }

  f64le(): number {
    return this.buffer.readDoubleLE(this.take(8));
  }

  bytes(count: number): Buffer {
    const at = this.take(count);
    return this.buffer.subarray(at, at + count);
  }

  /** UTF-16LE text of `charCount` characters. */
  ucs2(charCount: number): string {
    return this.bytes(charCount * 2).toString("utf16le");
  }

  /** B_VARCHAR: u8 character count, then UTF-16LE. */
  bVarchar(): string {
    return this.ucs2(this.u8());
  }

  /** US_VARCHAR: u16 character count, then UTF-16LE. */
  usVarchar(): string {
    return this.ucs2(this.u16le());
  }
}
