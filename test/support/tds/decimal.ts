// DECIMAL/NUMERIC on the wire: a sign byte (1 = positive) and the unscaled magnitude as a
// little-endian integer of 4, 8, 12 or 16 bytes depending on the precision. Values cross the engine
// boundary as exact strings, so conversion goes through BigInt, never through a float.

export function decimalStorageBytes(precision: number): number {
  if (precision <= 9) return 4;
  if (precision <= 19) return 8;
  if (precision <= 28) return 12;
  return 16;
}

/** Unscaled integer for `value` at `scale`, rounding half away from zero like SQL Server. */
export function toUnscaled(
  value: string | number | bigint,
  scale: number,
): { negative: boolean; magnitude: bigint } {
  const text = typeof value === "number" ? numberToPlainString(value) : String(value).trim();
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) {
    throw new TypeError(`not a decimal: ${text}`);
  }
  const negative = match[1] === "-";
  const whole = match[2] || "0";
  const fraction = match[3] ?? "";
  let magnitude = BigInt(whole + fraction.slice(0, scale).padEnd(scale, "0"));
  const next = fraction.charAt(scale);
  if (next !== "" && next >= "5") magnitude += 1n;
  return { negative: negative && magnitude !== 0n, magnitude };
}

export function fromUnscaled(negative: boolean, magnitude: bigint, scale: number): string {
  let digits = magnitude.toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return negative && magnitude !== 0n ? `-${digits}` : digits;
}

export function writeMagnitude(magnitude: bigint, byteCount: number): Buffer {
  const out = Buffer.alloc(byteCount);
  let rest = magnitude;
  for (let index = 0; index < byteCount; index++) {
    out[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (rest !== 0n) throw new RangeError("decimal value does not fit its precision");
  return out;
}

export function readMagnitude(bytes: Buffer): bigint {
  let value = 0n;
  for (let index = bytes.length - 1; index >= 0; index--) {
    value = (value << 8n) | BigInt(bytes[index] ?? 0);
  }
  return value;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`not a decimal: ${value}`);
  // toFixed avoids exponent notation for the magnitudes decimals can hold.
  return Math.abs(value) < 1e21 ? value.toFixed(20).replace(/\.?0+$/, "") : BigInt(value).toString();
}
