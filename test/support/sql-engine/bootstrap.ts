import { quoteLiteral } from "./translate-query.js";

// Postgres objects that give translated T-SQL its SQL Server meaning, created once per engine:
// - schema "dbo" for user tables; "INFORMATION_SCHEMA" and "sys" with the catalog views ORMs query;
// - schema "tsql" with functions and aggregates whose semantics differ from Postgres' built-ins;
// - `+` on strings (T-SQL concatenation) and an implicit int -> bit (boolean) cast, so `flag = 1` and
//   inserting 0/1 into bit columns work as in SQL Server.

/**
 * Session settings. Postgres keeps them per session, not in the data directory, so they run on every
 * boot (the cached image of sql-engine-image.ts holds only the objects below).
 */
export function sessionSettingsSql(databaseName: string): string {
  return `
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, MDY';
SET tsql.database = ${quoteLiteral(databaseName)};
SET search_path = dbo, tsql;
`;
}

/** The support objects: the same for every database name (they read `tsql.database` at run time). */
export function supportObjectsSql(): string {
  return `
CREATE SCHEMA dbo;
CREATE SCHEMA tsql;
CREATE SCHEMA "INFORMATION_SCHEMA";
CREATE SCHEMA sys;

UPDATE pg_cast SET castcontext = 'i'
WHERE castsource = 'integer'::regtype AND casttarget = 'boolean'::regtype;

CREATE FUNCTION tsql.concat_plus(text, text) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS 'SELECT $1 || $2';
CREATE OPERATOR tsql.+ (LEFTARG = text, RIGHTARG = text, FUNCTION = tsql.concat_plus);

-- SUM keeps int for int (Postgres widens to bigint); smallint sums to int.
CREATE FUNCTION tsql.sum_acc_int2(integer, smallint) RETURNS integer LANGUAGE sql IMMUTABLE
  AS 'SELECT CASE WHEN $2 IS NULL THEN $1 ELSE coalesce($1, 0) + $2 END';
CREATE AGGREGATE tsql.sum(smallint) (SFUNC = tsql.sum_acc_int2, STYPE = integer);
CREATE AGGREGATE tsql.sum(integer) (SFUNC = int4pl, STYPE = integer);
CREATE AGGREGATE tsql.sum(bigint) (SFUNC = int8pl, STYPE = bigint);
CREATE AGGREGATE tsql.sum(numeric) (SFUNC = numeric_add, STYPE = numeric);
CREATE AGGREGATE tsql.sum(double precision) (SFUNC = float8pl, STYPE = double precision);

-- AVG of integers is an integer in T-SQL (truncated); state is {count, sum}.
CREATE FUNCTION tsql.avg_acc(numeric[], numeric) RETURNS numeric[] LANGUAGE sql IMMUTABLE
  AS 'SELECT CASE WHEN $2 IS NULL THEN $1 ELSE ARRAY[$1[1] + 1, $1[2] + $2] END';
CREATE FUNCTION tsql.avg_acc(numeric[], integer) RETURNS numeric[] LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.avg_acc($1, $2::numeric)';
CREATE FUNCTION tsql.avg_acc(numeric[], smallint) RETURNS numeric[] LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.avg_acc($1, $2::numeric)';
CREATE FUNCTION tsql.avg_acc(numeric[], bigint) RETURNS numeric[] LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.avg_acc($1, $2::numeric)';
CREATE FUNCTION tsql.avg_int(numeric[]) RETURNS integer LANGUAGE sql IMMUTABLE
  AS 'SELECT CASE WHEN $1[1] = 0 THEN NULL ELSE trunc($1[2] / $1[1])::integer END';
CREATE FUNCTION tsql.avg_bigint(numeric[]) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS 'SELECT CASE WHEN $1[1] = 0 THEN NULL ELSE trunc($1[2] / $1[1])::bigint END';
CREATE FUNCTION tsql.avg_numeric(numeric[]) RETURNS numeric LANGUAGE sql IMMUTABLE
  AS 'SELECT CASE WHEN $1[1] = 0 THEN NULL ELSE round($1[2] / $1[1], greatest(scale($1[2]), 6)) END';
CREATE AGGREGATE tsql.avg(smallint) (SFUNC = tsql.avg_acc, STYPE = numeric[], INITCOND = '{0,0}', FINALFUNC = tsql.avg_int);
CREATE AGGREGATE tsql.avg(integer) (SFUNC = tsql.avg_acc, STYPE = numeric[], INITCOND = '{0,0}', FINALFUNC = tsql.avg_int);
CREATE AGGREGATE tsql.avg(bigint) (SFUNC = tsql.avg_acc, STYPE = numeric[], INITCOND = '{0,0}', FINALFUNC = tsql.avg_bigint);
CREATE AGGREGATE tsql.avg(numeric) (SFUNC = tsql.avg_acc, STYPE = numeric[], INITCOND = '{0,0}', FINALFUNC = tsql.avg_numeric);
CREATE AGGREGATE tsql.avg(double precision) (SFUNC = float8_accum, STYPE = double precision[], INITCOND = '{0,0,0}', FINALFUNC = float8_avg);

CREATE FUNCTION tsql.round(numeric, integer) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT round($1, $2)';
CREATE FUNCTION tsql.round(double precision, integer) RETURNS double precision LANGUAGE sql IMMUTABLE
  AS 'SELECT round($1::numeric, $2)::double precision';
CREATE FUNCTION tsql.round(integer, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT round($1::numeric, $2)::integer';
CREATE FUNCTION tsql.round(bigint, integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT round($1::numeric, $2)::bigint';

-- T-SQL date parts (DATEADD, DATEDIFF, DATEPART), canonical names.
CREATE FUNCTION tsql.date_part_name(part text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  CASE lower(part)
    WHEN 'year', 'yy', 'yyyy' THEN RETURN 'year';
    WHEN 'quarter', 'qq', 'q' THEN RETURN 'quarter';
    WHEN 'month', 'mm', 'm' THEN RETURN 'month';
    WHEN 'dayofyear', 'dy', 'y' THEN RETURN 'dayofyear';
    WHEN 'day', 'dd', 'd' THEN RETURN 'day';
    WHEN 'week', 'wk', 'ww' THEN RETURN 'week';
    WHEN 'weekday', 'dw', 'w' THEN RETURN 'weekday';
    WHEN 'hour', 'hh' THEN RETURN 'hour';
    WHEN 'minute', 'mi', 'n' THEN RETURN 'minute';
    WHEN 'second', 'ss', 's' THEN RETURN 'second';
    WHEN 'millisecond', 'ms' THEN RETURN 'millisecond';
    WHEN 'microsecond', 'mcs' THEN RETURN 'microsecond';
    ELSE RAISE EXCEPTION 'tsql: % is not a recognized datepart option', part;
  END CASE;
END $$;

CREATE FUNCTION tsql.dateadd(part text, n numeric, d timestamp) RETURNS timestamp LANGUAGE sql IMMUTABLE AS $$
  SELECT d + trunc(n) * CASE tsql.date_part_name(part)
    WHEN 'year' THEN interval '1 year' WHEN 'quarter' THEN interval '3 months' WHEN 'month' THEN interval '1 month'
    WHEN 'week' THEN interval '7 days' WHEN 'hour' THEN interval '1 hour' WHEN 'minute' THEN interval '1 minute'
    WHEN 'second' THEN interval '1 second' WHEN 'millisecond' THEN interval '1 millisecond'
    WHEN 'microsecond' THEN interval '1 microsecond' ELSE interval '1 day' END
$$;
CREATE FUNCTION tsql.dateadd(part text, n numeric, d timestamptz) RETURNS timestamptz LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.dateadd(part, n, d::timestamp)::timestamptz';
CREATE FUNCTION tsql.dateadd(part text, n numeric, d date) RETURNS date LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.dateadd(part, n, d::timestamp)::date';

-- DATEDIFF counts boundaries crossed; weeks start on Sunday (DATEFIRST 7).
CREATE FUNCTION tsql.datediff(part text, a timestamp, b timestamp) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE p text := tsql.date_part_name(part);
BEGIN
  IF a IS NULL OR b IS NULL THEN RETURN NULL; END IF;
  CASE p
    WHEN 'year' THEN RETURN extract(year FROM b) - extract(year FROM a);
    WHEN 'quarter' THEN RETURN (extract(year FROM b) * 4 + extract(quarter FROM b)) - (extract(year FROM a) * 4 + extract(quarter FROM a));
    WHEN 'month' THEN RETURN (extract(year FROM b) * 12 + extract(month FROM b)) - (extract(year FROM a) * 12 + extract(month FROM a));
    WHEN 'week' THEN RETURN ((b::date - extract(dow FROM b)::int) - (a::date - extract(dow FROM a)::int)) / 7;
    WHEN 'hour' THEN RETURN (extract(epoch FROM date_trunc('hour', b)) - extract(epoch FROM date_trunc('hour', a))) / 3600;
    WHEN 'minute' THEN RETURN (extract(epoch FROM date_trunc('minute', b)) - extract(epoch FROM date_trunc('minute', a))) / 60;
    WHEN 'second' THEN RETURN extract(epoch FROM date_trunc('second', b)) - extract(epoch FROM date_trunc('second', a));
    WHEN 'millisecond' THEN RETURN round((extract(epoch FROM date_trunc('milliseconds', b)) - extract(epoch FROM date_trunc('milliseconds', a))) * 1000);
    WHEN 'microsecond' THEN RETURN round((extract(epoch FROM b) - extract(epoch FROM a)) * 1000000);
    ELSE RETURN b::date - a::date;
  END CASE;
END $$;
CREATE FUNCTION tsql.datediff(part text, a timestamptz, b timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.datediff(part, a::timestamp, b::timestamp)';
CREATE FUNCTION tsql.datediff(part text, a date, b date) RETURNS integer LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.datediff(part, a::timestamp, b::timestamp)';

CREATE FUNCTION tsql.datepart(part text, d timestamp) RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE p text := tsql.date_part_name(part);
BEGIN
  IF d IS NULL THEN RETURN NULL; END IF;
  CASE p
    WHEN 'dayofyear' THEN RETURN extract(doy FROM d);
    WHEN 'weekday' THEN RETURN extract(dow FROM d) + 1;
    WHEN 'week' THEN RETURN (extract(doy FROM d)::int + extract(dow FROM date_trunc('year', d))::int - 1) / 7 + 1;
    WHEN 'millisecond' THEN RETURN floor(extract(milliseconds FROM d))::int % 1000;
    WHEN 'microsecond' THEN RETURN floor(extract(microseconds FROM d))::int % 1000000;
    ELSE RETURN floor(date_part(p, d));
  END CASE;
END $$;
CREATE FUNCTION tsql.datepart(part text, d timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.datepart(part, d::timestamp)';
CREATE FUNCTION tsql.datepart(part text, d date) RETURNS integer LANGUAGE sql IMMUTABLE
  AS 'SELECT tsql.datepart(part, d::timestamp)';

CREATE FUNCTION tsql.schema_id(name text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE lower(name) WHEN 'dbo' THEN 1 WHEN 'guest' THEN 2 WHEN 'information_schema' THEN 3 WHEN 'sys' THEN 4 END
$$;
CREATE FUNCTION tsql.schema_name(id integer) RETURNS varchar(128) LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE id WHEN 1 THEN 'dbo' WHEN 2 THEN 'guest' WHEN 3 THEN 'INFORMATION_SCHEMA' WHEN 4 THEN 'sys' END
$$;

-- OBJECT_ID('[dbo].[users]', 'U'): T-SQL names, case-insensitive; tables, views and constraints.
CREATE FUNCTION tsql.object_id(name text, type text DEFAULT NULL) RETURNS integer LANGUAGE plpgsql STABLE AS $$
DECLARE
  parts text[];
  n text;
  s text := '';
  t text := upper(trim(coalesce(type, '')));
  result integer;
BEGIN
  IF name IS NULL THEN RETURN NULL; END IF;
  parts := string_to_array(regexp_replace(name, '[][""]', '', 'g'), '.');
  n := parts[array_length(parts, 1)];
  IF array_length(parts, 1) >= 2 THEN s := parts[array_length(parts, 1) - 1]; END IF;
  IF array_length(parts, 1) >= 3 AND parts[1] <> '' AND lower(parts[1]) <> lower(current_setting('tsql.database')) THEN
    RETURN NULL;
  END IF;
  IF n LIKE '#%' THEN RETURN NULL; END IF;
  s := CASE WHEN s = '' OR lower(s) = 'dbo' THEN 'dbo' WHEN lower(s) = 'sys' THEN 'sys'
            WHEN lower(s) = 'information_schema' THEN 'INFORMATION_SCHEMA' ELSE s END;
  IF t IN ('', 'U', 'V') THEN
    SELECT c.oid::int INTO result FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
    WHERE ns.nspname = s AND lower(c.relname) = lower(n)
      AND ((t = 'U' AND c.relkind IN ('r', 'p')) OR (t = 'V' AND c.relkind = 'v') OR (t = '' AND c.relkind IN ('r', 'p', 'v')))
    ORDER BY (c.relname = n) DESC LIMIT 1;
    IF result IS NOT NULL OR t <> '' THEN RETURN result; END IF;
  END IF;
  SELECT con.oid::int INTO result FROM pg_constraint con JOIN pg_namespace ns ON ns.oid = con.connamespace
  WHERE ns.nspname = s AND lower(con.conname) = lower(n)
    AND (t = '' OR con.contype = CASE t WHEN 'PK' THEN 'p' WHEN 'UQ' THEN 'u' WHEN 'F' THEN 'f' WHEN 'C' THEN 'c' END)
  LIMIT 1;
  RETURN result;
END $$;

CREATE FUNCTION tsql.object_name(id integer) RETURNS varchar(128) LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT relname::text FROM pg_class WHERE oid = id::oid),
                  (SELECT conname::text FROM pg_constraint WHERE oid = id::oid))
$$;

-- After SET IDENTITY_INSERT inserts: SQL Server moves the identity forward past the largest value.
CREATE FUNCTION tsql.reseed_identity(tbl regclass, col text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  seq text := pg_get_serial_sequence(tbl::text, col);
  m bigint;
  last bigint;
  called boolean;
BEGIN
  EXECUTE format('SELECT max(%I) FROM %s', col, tbl) INTO m;
  IF m IS NULL OR seq IS NULL THEN RETURN; END IF;
  EXECUTE format('SELECT last_value, is_called FROM %s', seq) INTO last, called;
  -- Not yet called, the next value is last itself; called, it is last + 1.
  IF (called AND m > last) OR (NOT called AND m >= last) THEN
    PERFORM setval(seq, m, true);
  END IF;
END $$;

CREATE FUNCTION tsql.type_of(comment text) RETURNS json LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN comment LIKE 'tsql:%' THEN substr(comment, 6)::json END
$$;

CREATE VIEW "INFORMATION_SCHEMA"."TABLES" AS
SELECT CAST(current_setting('tsql.database') AS varchar(128)) AS "TABLE_CATALOG",
       CAST(n.nspname AS varchar(128)) AS "TABLE_SCHEMA",
       CAST(c.relname AS varchar(128)) AS "TABLE_NAME",
       CAST(CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'BASE TABLE' END AS varchar(10)) AS "TABLE_TYPE"
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'dbo' AND c.relkind IN ('r', 'p', 'v');

CREATE VIEW "INFORMATION_SCHEMA"."COLUMNS" AS
SELECT CAST(current_setting('tsql.database') AS varchar(128)) AS "TABLE_CATALOG",
       CAST(n.nspname AS varchar(128)) AS "TABLE_SCHEMA",
       CAST(c.relname AS varchar(128)) AS "TABLE_NAME",
       CAST(a.attname AS varchar(128)) AS "COLUMN_NAME",
       CAST(a.attnum AS integer) AS "ORDINAL_POSITION",
       CAST(pg_get_expr(d.adbin, d.adrelid) AS varchar(4000)) AS "COLUMN_DEFAULT",
       CAST(CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS varchar(3)) AS "IS_NULLABLE",
       CAST(coalesce(tsql.type_of(col_description(c.oid, a.attnum)) ->> 'kind', format_type(a.atttypid, NULL)) AS varchar(128)) AS "DATA_TYPE",
       CAST(CASE tsql.type_of(col_description(c.oid, a.attnum)) ->> 'maxLength' WHEN 'max' THEN -1
            ELSE (tsql.type_of(col_description(c.oid, a.attnum)) ->> 'maxLength')::integer END AS integer) AS "CHARACTER_MAXIMUM_LENGTH",
       CAST(tsql.type_of(col_description(c.oid, a.attnum)) ->> 'precision' AS smallint) AS "NUMERIC_PRECISION",
       CAST(tsql.type_of(col_description(c.oid, a.attnum)) ->> 'scale' AS integer) AS "NUMERIC_SCALE",
       CAST(NULL AS varchar(128)) AS "COLLATION_NAME"
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'dbo' AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped;

CREATE VIEW sys.schemas AS
SELECT CAST(name AS varchar(128)) AS name, schema_id, principal_id
FROM (VALUES ('dbo', 1, 1), ('guest', 2, 2), ('INFORMATION_SCHEMA', 3, 3), ('sys', 4, 4)) AS s(name, schema_id, principal_id);

CREATE VIEW sys.objects AS
SELECT CAST(c.relname AS varchar(128)) AS name, c.oid::int AS object_id, 1 AS schema_id, 0 AS parent_object_id,
       CAST(CASE c.relkind WHEN 'v' THEN 'V ' ELSE 'U ' END AS char(2)) AS type,
       CAST(CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'USER_TABLE' END AS varchar(60)) AS type_desc
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'dbo' AND c.relkind IN ('r', 'p', 'v')
UNION ALL
SELECT CAST(con.conname AS varchar(128)), con.oid::int, 1, con.conrelid::int,
       CAST(CASE con.contype WHEN 'p' THEN 'PK' WHEN 'u' THEN 'UQ' WHEN 'f' THEN 'F ' ELSE 'C ' END AS char(2)),
       CAST(CASE con.contype WHEN 'p' THEN 'PRIMARY_KEY_CONSTRAINT' WHEN 'u' THEN 'UNIQUE_CONSTRAINT'
            WHEN 'f' THEN 'FOREIGN_KEY_CONSTRAINT' ELSE 'CHECK_CONSTRAINT' END AS varchar(60))
FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
WHERE n.nspname = 'dbo' AND con.contype IN ('p', 'u', 'f', 'c');

CREATE VIEW sys.tables AS
SELECT name, object_id, schema_id, parent_object_id, type, type_desc FROM sys.objects WHERE type = 'U ';

CREATE VIEW sys.columns AS
SELECT a.attrelid::int AS object_id, CAST(a.attname AS varchar(128)) AS name, CAST(a.attnum AS integer) AS column_id,
       NOT a.attnotnull AS is_nullable, a.attidentity <> '' AS is_identity
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'dbo' AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped;
`;
}
