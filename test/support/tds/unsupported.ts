// A request the stand-in understands well enough to refuse cleanly. It is answered with a SQL
// Server style ERROR token (the connection stays usable), never by dropping the connection, so a
// test sees exactly what is missing.

export class UnsupportedFeatureError extends Error {
  override name = "UnsupportedFeatureError";
}
