import { Duplex } from "node:stream";
import { PacketReader, PacketType, packet } from "./prelogin.js";

// TDS 7.x encryption: the TLS handshake travels INSIDE PRELOGIN packets ([MS-TDS] 3.2.5.2). A TLS
// client (tls.connect({ socket })) runs over this Duplex: what it writes goes out wrapped in PRELOGIN
// packets, and the payloads of the packets the server sends come back unwrapped. The probe closes
// the connection once the handshake is done, so the switch to raw TLS records never happens here.

export class PreloginFraming extends Duplex {
  private readonly reader = new PacketReader();
  private packetId = 1;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const received of this.reader.push(chunk)) this.push(received.payload);
      } catch (error) {
        this.destroy(error as Error);
      }
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (error) => this.destroy(error));
    socket.on("close", () => this.destroy());
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(packet(PacketType.PRELOGIN, chunk, this.packetId++), callback);
  }

  override _read(): void {}

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
