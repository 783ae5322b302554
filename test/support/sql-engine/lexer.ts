import { syntaxError, unclosedQuote } from "./errors.js";

// T-SQL tokens. The lexer knows the quoting rules that differ from Postgres: [bracketed] and "quoted"
// identifiers (with ]] and "" escapes), N'unicode' strings with '' escapes, @params, @@system variables,
// 0x binary literals, nested /* */ comments. Whitespace and comments are dropped; every token keeps its
// source offsets so errors can quote the statement as written.

export type TokenKind =
  | "word" // unquoted identifier or keyword; `upper` holds the upper-cased text
  | "qident" // [bracketed] or "double-quoted" identifier; `value` is the unescaped name
  | "string" // '...' or N'...'; `value` is the unescaped content
  | "number" // 12, 1.5, .5, 1e3
  | "binary" // 0x0A0B; `value` is the hex digits
  | "param" // @name; `value` is "@name" as written
  | "sysvar" // @@NAME; `upper` is "@@NAME"
  | "op" // punctuation and operators
  | "eof";

export interface Token {
  kind: TokenKind;
  /** Unescaped value (names, string content) or the source text for the other kinds. */
  value: string;
  /** Upper-cased `value` for words, system variables and operators. */
  upper: string;
  start: number;
  end: number;
  /** N'...' strings. */
  national?: boolean;
}

const TWO_CHAR_OPS = new Set([
  "<=",
  ">=",
  "<>",
  "!=",
  "!<",
  "!>",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "::",
]);
const ONE_CHAR_OPS = new Set([..."(),.;*+-/%=<>&|^~!"]);

function isWordStart(ch: string): boolean {
  return /[A-Za-z_#\u0080-\uffff]/.test(ch);
}
function isWordPart(ch: string): boolean {
  return /[A-Za-z0-9_#$@\u0080-\uffff]/.test(ch);
}

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number, end: number, national?: boolean) => {
    const upper = kind === "word" || kind === "sysvar" || kind === "op" ? value.toUpperCase() : value;
    tokens.push(national ? { kind, value, upper, start, end, national } : { kind, value, upper, start, end });
  };
  while (i < n) {
    const ch = sql[i] as string;
    const next = sql[i + 1] ?? "";
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "-" && next === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? n : eol + 1;
      continue;
    }
    if (ch === "/" && next === "*") {
      // T-SQL block comments nest.
      let depth = 0;
      let j = i;
      while (j < n) {
        if (sql.startsWith("/*", j)) {
          depth++;
          j += 2;
        } else if (sql.startsWith("*/", j)) {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      if (depth !== 0) throw syntaxError("Missing end comment mark '*/'.", 113);
      i = j;
      continue;
    }
    const start = i;
    if (ch === "'" || ((ch === "N" || ch === "n") && next === "'")) {
      const national = ch !== "'";
      let j = national ? i + 2 : i + 1;
      let value = "";
      for (;;) {
        if (j >= n) throw unclosedQuote(value);
        const c = sql[j] as string;
        if (c === "'") {
          if (sql[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          j++;
          break;
        }
        value += c;
        j++;
      }
      push("string", value, start, j, national);
      i = j;
      continue;
    }
    if (ch === "[" || ch === '"') {
      const close = ch === "[" ? "]" : '"';
      let j = i + 1;
      let value = "";
      for (;;) {
        if (j >= n) throw unclosedQuote(value);
        const c = sql[j] as string;
        if (c === close) {
          if (sql[j + 1] === close) {
            value += close;
            j += 2;
            continue;
          }
          j++;
          break;
        }
        value += c;
        j++;
      }
      push("qident", value, start, j);
      i = j;
      continue;
    }
    if (ch === "0" && (next === "x" || next === "X")) {
      let j = i + 2;
      while (j < n && /[0-9A-Fa-f]/.test(sql[j] as string)) j++;
      push("binary", sql.slice(i + 2, j), start, j);
      i = j;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(next))) {
      let j = i;
      while (j < n && /[0-9]/.test(sql[j] as string)) j++;
      if (sql[j] === ".") {
        j++;
        while (j < n && /[0-9]/.test(sql[j] as string)) j++;
      }
      if ((sql[j] === "e" || sql[j] === "E") && /[-+0-9]/.test(sql[j + 1] ?? "")) {
        j++;
        if (sql[j] === "+" || sql[j] === "-") j++;
        while (j < n && /[0-9]/.test(sql[j] as string)) j++;
      }
      push("number", sql.slice(i, j), start, j);
      i = j;
      continue;
    }
    if (ch === "@") {
      const sys = next === "@";
      let j = sys ? i + 2 : i + 1;
      while (j < n && isWordPart(sql[j] as string)) j++;
      const text = sql.slice(i, j);
      if (text.length === (sys ? 2 : 1)) throw syntaxError(`Incorrect syntax near '${text}'.`);
      push(sys ? "sysvar" : "param", text, start, j);
      i = j;
      continue;
    }
    if (isWordStart(ch)) {
      let j = i + 1;
      while (j < n && isWordPart(sql[j] as string)) j++;
      push("word", sql.slice(i, j), start, j);
      i = j;
      continue;
    }
    const two = sql.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      push("op", two, start, i + 2);
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(ch)) {
      push("op", ch, start, i + 1);
      i++;
      continue;
    }
    throw syntaxError(`Incorrect syntax near '${ch}'.`);
  }
  tokens.push({ kind: "eof", value: "", upper: "", start: n, end: n });
  return tokens;
}
