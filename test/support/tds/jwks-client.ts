import { createPublicKey, type KeyObject } from "node:crypto";
import http from "node:http";
import https from "node:https";

// Fetches the identity provider's signing keys the way Azure SQL does: keys are cached by `kid`,
// and a token signed with an unknown `kid` triggers one refetch (key rollover) before it is refused.
// HTTPS trust comes from an explicit CA, never from process-wide settings.

export interface JwksClientOptions {
  jwksUri: string;
  /** CA certificate (PEM) that issued the JWKS server's certificate. */
  caPem?: string;
  /** Per request. Default 5000. */
  timeoutMs?: number;
}

export class JwksClient {
  private keys = new Map<string, KeyObject>();
  private inFlight: Promise<void> | undefined;
  /** Number of completed fetches (tests assert caching). */
  fetchCount = 0;

  constructor(private readonly options: JwksClientOptions) {}

  async getKey(kid: string): Promise<KeyObject | undefined> {
    const cached = this.keys.get(kid);
    if (cached) return cached;
    await this.refresh();
    return this.keys.get(kid);
  }

  /** One fetch at a time; concurrent callers share it. Cleared on success and failure alike. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    const body = await getText(this.options.jwksUri, this.options.caPem, this.options.timeoutMs ?? 5000);
    const document = JSON.parse(body) as { keys?: Array<Record<string, unknown>> };
    const next = new Map<string, KeyObject>();
    for (const jwk of document.keys ?? []) {
      if (typeof jwk.kid !== "string" || jwk.kty !== "RSA") continue;
      if (jwk.use !== undefined && jwk.use !== "sig") continue;
      next.set(jwk.kid, createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e } as never, format: "jwk" }));
    }
    this.keys = next;
    this.fetchCount++;
  }
}

function getText(uri: string, caPem: string | undefined, timeoutMs: number): Promise<string> {
  const url = new URL(uri);
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(url, { ca: caPem, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if ((response.statusCode ?? 0) >= 400)
          reject(new Error(`JWKS ${uri} answered ${response.statusCode}`));
        else resolve(text);
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`JWKS ${uri} timed out after ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}
