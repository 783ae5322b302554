/**
 * Builds response payloads. Tokens are small and a response is assembled in memory before it is
 * split into packets, so a simple growable buffer is enough.
 */
export class ByteWriter {
  private buffer = Buffer.alloc(256);
  private length = 0;

  /**
   * Makes room for `count` bytes and returns where they go. Callers must take the offset BEFORE
   * touching `this.buffer`: growing replaces the buffer.
   */
  private reserve(count: number): number {
    if (this.length + count > this.buffer.length) {
      const next = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + count));
      this.buffer.copy(next, 0, 0, this.length);
      this.buffer = next;
    }
    const at = this.length;
    this.length += count;
    return at;
  }

  get size(): number {
    return this.length;
  }

  u8(value: number): this {
    const at = this.reserve(1);
    this.buffer.writeUInt8(value, at);
    return this;
  }

  u16le(value: number): this {
    const at = this.reserve(2);
    this.buffer.writeUInt16LE(value, at);
    return this;
  }

  u16be(value: number): this {
    const at = this.reserve(2);
    this.buffer.writeUInt16BE(value, at);
    return this;
  }

  i16le(value: number): this {
    const at = this.reserve(2);
    this.buffer.writeInt16LE(value, at);
    return this;
  }

  u24le(value: number): this {
    const at = this.reserve(3);
    this.buffer.writeUIntLE(value, at, 3);
    return this;
  }

  u32le(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeUInt32LE(value, at);
    return this;
  }

  u32be(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeUInt32BE(value, at);
    return this;
  }

  i32le(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeInt32LE(value, at);
    return this;
  }

  u40le(value: number): this {
    const at = this.reserve(5);
    this.buffer.writeUIntLE(value, at, 5);
    return this;
  }

  u64le(value: bigint | number): this {
    const at = this.reserve(8);
    this.buffer.writeBigUInt64LE(BigInt(value), at);
    return this;
  }

  i64le(value: bigint | number): this {
    const at = this.reserve(8);
    this.buffer.writeBigInt64LE(BigInt(value), at);
    return this;
  }

  f32le(value: number): this {
    const at = this.reserve(4);
    this.buffer.writeFloatLE(value, at);
    return this;
  }

  f64le(value: number): this {
    const at = this.reserve(8);
    this.buffer.writeDoubleLE(value, at);
    return this;
  }

  bytes(value: Uint8Array): this {
    const at = this.reserve(value.length);
    this.buffer.set(value, at);
    return this;
  }

  /** B_VARCHAR: u8 character count, then UTF-16LE. */
  bVarchar(value: string): this {
    const bytes = Buffer.from(value, "utf16le");
    return this.u8(bytes.length / 2).bytes(bytes);
  }

  /** US_VARCHAR: u16 character count, then UTF-16LE. */
  usVarchar(value: string): this {
    const bytes = Buffer.from(value, "utf16le");
    return this.u16le(bytes.length / 2).bytes(bytes);
  }

  /** B_VARBYTE: u8 byte count, then the bytes. */
  bVarbyte(value: Uint8Array): this {
    return this.u8(value.length).bytes(value);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}
