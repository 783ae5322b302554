// Where the CLI's text goes. The bin writes to the process's stdout and stderr through
// `processWriter()`, the one place in this package that touches them; commands receive a Writer, so
// tests capture everything a run prints with `memoryWriter()`.

/** Receives what a command prints: `out` for results (stdout), `err` for warnings and errors (stderr). */
export interface Writer {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr. */
export function processWriter(): Writer {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
  };
}

/** A Writer that keeps everything, for tests. */
export function memoryWriter(): Writer & { readonly stdout: string; readonly stderr: string } {
  let stdout = "";
  let stderr = "";
  return {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}
