// uniqueidentifier bytes are "mixed-endian": the first three groups are little-endian, the last two
// big-endian (the Windows GUID struct layout). SQL Server returns the text upper-case.

export function guidToBytes(text: string): Buffer {
  const hex = text.replace(/[{}-]/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a uniqueidentifier: ${text}`);
  const raw = Buffer.from(hex, "hex");
  return Buffer.concat([
    Buffer.from(raw.subarray(0, 4)).reverse(),
    Buffer.from(raw.subarray(4, 6)).reverse(),
    Buffer.from(raw.subarray(6, 8)).reverse(),
    raw.subarray(8, 16),
  ]);
}

export function bytesToGuid(bytes: Buffer): string {
  const hex = Buffer.concat([
    Buffer.from(bytes.subarray(0, 4)).reverse(),
    Buffer.from(bytes.subarray(4, 6)).reverse(),
    Buffer.from(bytes.subarray(6, 8)).reverse(),
    bytes.subarray(8, 16),
  ])
    .toString("hex")
    .toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
