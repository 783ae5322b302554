import { editDistance } from "@entra-sql/core/internal";
import { invalidOption } from "./invalid-option.js";
import {
  CREDENTIAL_PRESET_FIELDS,
  ENTRA_KEYS,
  type EntraTypeOrmKey,
  SHORTCUT_KEYS,
  TOKEN_SOURCE_ONLY_KEYS,
} from "./options.js";
import { TYPEORM_MSSQL_KEYS } from "./typeorm-mssql-keys.js";

// TypeORM ignores keys it does not know, so an Entra option that is misspelt (`maxAgeMs`) or given at
// the wrong level (`refreshWindowInMs` belongs inside `tokenSource`) would be lost without a word. Such
// keys are refused here, with the fix. A key is refused when it is not one of TypeORM's mssql options
// (TYPEORM_MSSQL_KEYS) and
// - is a token source option (it goes inside `tokenSource`) or a credential preset's field (inside
//   `credential: { type, ... }`), or
// - is close to one of this package's options or a token source option: the same name in another case
//   or with another unit suffix (`maxAge`, `maxAgeSeconds`), or a few edits away (fewer for short names).
//
// Any other key passes through to TypeORM, as TypeORM itself allows. Refusing every unknown key would
// be too strict for real configurations: tools built on TypeORM read their own keys from the same
// object (NestJS's TypeOrmModule: `autoLoadEntities`, `retryAttempts`, `retryDelay`, ...;
// typeorm-extension: `seeds`, `factories`), and configurations shared between drivers carry keys that
// TypeORM's mssql driver does not read.

const NOT_KNOWN = "not a TypeORM mssql option nor an @entra-sql/typeorm option";

/** Names a misspelt key may have meant: this package's options and the token source's. */
const SUGGESTIONS = [...Object.keys(ENTRA_KEYS), ...Object.keys(TOKEN_SOURCE_ONLY_KEYS)].filter(
  (name) => !TYPEORM_MSSQL_KEYS.has(name),
);

/** Refuses top-level keys that look like misspelt or misplaced Entra options (see above). */
export function refuseMisplacedKeys(options: Record<string, unknown>): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(ENTRA_KEYS, key) || TYPEORM_MSSQL_KEYS.has(key)) continue;
    if (Object.hasOwn(TOKEN_SOURCE_ONLY_KEYS, key)) {
      throw invalidOption(
        key,
        "a token source option, given at the top level",
        `it inside the token source: ${insideTokenSource(key, options)}`,
      );
    }
    if (Object.hasOwn(CREDENTIAL_PRESET_FIELDS, key)) {
      const preset = CREDENTIAL_PRESET_FIELDS[key as keyof typeof CREDENTIAL_PRESET_FIELDS];
      const credential = `credential: { type: "${preset}", ${key}, ... }`;
      throw invalidOption(
        key,
        "a credential setting, given at the top level",
        `it inside a credential preset: ${options.tokenSource === undefined ? credential : `tokenSource: { ${credential} }`}`,
      );
    }
    const hint = suggest(key);
    if (hint === undefined) continue;
    throw invalidOption(
      key,
      NOT_KNOWN,
      Object.hasOwn(ENTRA_KEYS, hint)
        ? `"${hint}" (did you mean ${hint}${unit(hint)}? TypeORM ignores keys it does not know)`
        : `"${hint}" inside the token source (did you mean ${hint}${unit(hint)}? ${insideTokenSource(hint, options)})`,
    );
  }
}

/** Where a token source option goes, given what else the options hold. */
export function insideTokenSource(name: string, options: Record<string, unknown>): string {
  const { tokenSource } = options;
  if (typeof (tokenSource as { getToken?: unknown } | undefined)?.getToken === "function") {
    return `createTokenSource({ ..., ${name} }), where you create the TokenSource you pass as tokenSource`;
  }
  if (tokenSource !== undefined) return `tokenSource: { ..., ${name} }`;
  const shortcuts: EntraTypeOrmKey[] = SHORTCUT_KEYS.filter((shortcut) => options[shortcut] !== undefined);
  if (shortcuts.length === 0) return `tokenSource: { ${name} }`;
  return (
    `tokenSource: { ${[...shortcuts, name].join(", ")} } in place of the top-level ${shortcuts.join(" and ")} ` +
    `(${shortcuts.length > 1 ? "they cannot be" : "it cannot be"} given next to tokenSource)`
  );
}

/** The option a misspelt key most likely meant, if any is close enough. */
function suggest(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of SUGGESTIONS) {
    const distance =
      withoutUnit(key) === withoutUnit(name) ? 0 : editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance <= allowedEdits(name) && distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

const unit = (name: string) => (name.endsWith("InMs") ? ", in milliseconds" : "");

/** Lower case, without a trailing unit: `maxAgeInMs`, `maxAgeMs`, `maxAgeSeconds` and `maxAge` are one name. */
function withoutUnit(name: string): string {
  return name.toLowerCase().replace(/(?:in)?(?:ms|millis|milliseconds|seconds|secs|ratio)$/, "");
}

/** One edit for short names (`scope`, `mssql`), two up to ten characters, three beyond. */
function allowedEdits(name: string): number {
  return name.length <= 5 ? 1 : name.length <= 10 ? 2 : 3;
}
