import { Duplex } from "node:stream";

/**
 * The "wire" side of a server TLSSocket that is not a real socket. TLS records the TLSSocket writes
 * go to `output` (wrapped into PRELOGIN packets during the TDS 7.x handshake, or straight onto the
 * TCP socket); records from the client are fed in with `input`. Swapping `output` is how the stand-in
 * moves from wrapped to raw TLS once the handshake is over.
 */
export class TlsBridge extends Duplex {
  constructor(private output: (records: Buffer) => void) {
    super();
  }

  setOutput(output: (records: Buffer) => void): void {
    this.output = output;
  }

  input(records: Buffer): void {
    this.push(records);
  }

  override _read(): void {
    // Data is pushed by `input` as it arrives; nothing to pull.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.output(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.push(null);
    callback();
  }
}
