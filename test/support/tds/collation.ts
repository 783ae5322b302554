// The one collation the stand-in speaks: SQL_Latin1_General_CP1_CI_AS, Azure SQL's default
// (LCID 0x0409, flags 0xD0 = ignore case/accent-sensitive/width, sort id 52). Its code page is 1252,
// which decides how VARCHAR bytes map to characters.

export const DEFAULT_COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

// Windows-1252 differs from Latin-1 only in 0x80-0x9F.
const CP1252_HIGH: ReadonlyArray<number> = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d,
  0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0x9d, 0x017e, 0x0178,
];
const CP1252_REVERSE = new Map(CP1252_HIGH.map((codePoint, index) => [codePoint, 0x80 + index]));

export function decodeCp1252(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += String.fromCharCode(byte >= 0x80 && byte <= 0x9f ? (CP1252_HIGH[byte - 0x80] ?? byte) : byte);
  }
  return out;
}

/** Characters outside code page 1252 become '?', as SQL Server does when it converts to VARCHAR. */
export function encodeCp1252(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  let at = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0x3f;
    const mapped = CP1252_REVERSE.get(code);
    if (mapped !== undefined) out[at++] = mapped;
    else if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) out[at++] = code;
    else out[at++] = 0x3f;
  }
  return out.subarray(0, at);
}
