// Date and time arithmetic for the TDS temporal types. Everything is UTC: the stand-in treats
// datetime/datetime2 as UTC instants (tedious' default `useUTC: true` does the same).

const MS_PER_DAY = 86_400_000;
/** Days from 0001-01-01 (date/datetime2/datetimeoffset epoch) to 1970-01-01. */
const DAYS_0001_TO_1970 = 719_162;
/** Days from 1900-01-01 (datetime epoch) to 1970-01-01. */
const DAYS_1900_TO_1970 = 25_567;

export function timeBytesForScale(scale: number): number {
  if (scale <= 2) return 3;
  if (scale <= 4) return 4;
  return 5;
}

function splitDay(date: Date): { day: number; msOfDay: number } {
  const ms = date.getTime();
  const day = Math.floor(ms / MS_PER_DAY);
  return { day, msOfDay: ms - day * MS_PER_DAY };
}

/** date: days since 0001-01-01. */
export function toDays0001(date: Date): number {
  return splitDay(date).day + DAYS_0001_TO_1970;
}

export function fromDays0001(days: number, msOfDay = 0): Date {
  return new Date((days - DAYS_0001_TO_1970) * MS_PER_DAY + msOfDay);
}

/** datetime2/datetimeoffset time part: units of 10^-scale seconds since midnight. */
export function toTimeUnits(date: Date, scale: number): { days: number; units: number } {
  const { day, msOfDay } = splitDay(date);
  let units = Math.round(msOfDay * 10 ** (scale - 3));
  let days = day + DAYS_0001_TO_1970;
  const perDay = 86_400 * 10 ** scale;
  if (units >= perDay) {
    units -= perDay;
    days += 1;
  }
  return { days, units };
}

export function fromTimeUnits(days: number, units: number, scale: number): Date {
  const msOfDay = Math.round((units * 1000) / 10 ** scale);
  return fromDays0001(days, msOfDay);
}

/** datetime: days since 1900-01-01 and 1/300 s ticks since midnight. */
export function toDateTimeParts(date: Date): { days: number; ticks: number } {
  const { day, msOfDay } = splitDay(date);
  let days = day + DAYS_1900_TO_1970;
  let ticks = Math.round((msOfDay * 3) / 10);
  if (ticks >= 300 * 86_400) {
    ticks -= 300 * 86_400;
    days += 1;
  }
  return { days, ticks };
}

export function fromDateTimeParts(days: number, ticks: number): Date {
  return new Date((days - DAYS_1900_TO_1970) * MS_PER_DAY + Math.round((ticks * 10) / 3));
}

/** smalldatetime: days since 1900-01-01 and minutes since midnight. */
export function fromSmallDateTimeParts(days: number, minutes: number): Date {
  return new Date((days - DAYS_1900_TO_1970) * MS_PER_DAY + minutes * 60_000);
}

/** Accepts a Date or an ISO-8601 string (what an engine may hand back for temporal columns). */
export function asDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === "string" || typeof value === "number") {
    const parsed = new Date(value);
    if (!Number.isNaN(parsed.getTime())) return parsed;
  }
  throw new TypeError(`not a date: ${String(value)}`);
}
