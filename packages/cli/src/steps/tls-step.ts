import { isIP } from "node:net";
import tls, { type PeerCertificate } from "node:tls";
import { duration, time } from "../format.js";
import { failed, type StepOutcome } from "../step.js";
import { Encryption, exchangePrelogin, type PreloginAnswer } from "./prelogin.js";
import { PreloginFraming } from "./prelogin-tls.js";
import { openSocket } from "./tcp-step.js";

// Step 3c: TLS as tedious does it with `encrypt: true` (TDS 7.x: PRELOGIN, then the handshake inside
// PRELOGIN packets, TLS 1.2), then whether strict TDS 8.0 (TLS first, ALPN "tds/8.0") is offered.
// Both handshakes verify nothing themselves (rejectUnauthorized: false): the probe reads Node's
// verdict (`authorized`, `authorizationError`, host name included) so that an untrusted certificate
// is reported with its subject and issuer instead of a bare handshake error. Nothing is sent over TLS.

const STRICT_PROBE_TIMEOUT_IN_MS = 5_000;

export interface TlsStepValue {
  outcome: StepOutcome;
}

interface Handshake {
  protocol: string | null;
  alpn: string | false | null;
  authorized: boolean;
  authorizationError: string | undefined;
  certificate: PeerCertificate;
}

export async function tlsStep(
  host: string,
  address: string,
  port: number,
  timeoutInMs: number,
): Promise<TlsStepValue> {
  let prelogin: PreloginAnswer;
  let legacy: Handshake | Error | undefined;
  try {
    const socket = await openSocket(address, port, timeoutInMs);
    try {
      prelogin = await withTimeout(exchangePrelogin(socket), timeoutInMs, "PRELOGIN");
      if (prelogin.encryption === Encryption.ON || prelogin.encryption === Encryption.REQ) {
        legacy = await handshake(
          { socket: new PreloginFraming(socket), maxVersion: "TLSv1.2" },
          host,
          timeoutInMs,
        ).catch((error: Error) => error);
      }
    } finally {
      socket.destroy();
    }
  } catch (error) {
    return {
      outcome: failed(
        "tls",
        `PRELOGIN failed: ${(error as Error).message}`,
        [],
        "The endpoint does not speak TDS: check --server and --port.",
        {},
      ),
    };
  }
  // A server without TDS 8.0 may wait for a PRELOGIN that never comes: a shorter wait says "no".
  const strictTimeoutInMs = Math.min(timeoutInMs, STRICT_PROBE_TIMEOUT_IN_MS);
  const strict = await openSocket(address, port, strictTimeoutInMs)
    .then((socket) => {
      socket.destroy();
      return handshake({ host: address, port, ALPNProtocols: ["tds/8.0"] }, host, strictTimeoutInMs);
    })
    .catch((error: Error) => error);
  const strictAvailable = !(strict instanceof Error);
  const details = [
    `server version (PRELOGIN): ${prelogin.version ?? "not given"}`,
    `TDS 7.x encryption: ${encryptionText(prelogin.encryption)}`,
    `strict TDS 8.0 (encrypt: "strict"): ${strictAvailable ? `available (${strict.protocol ?? "?"})` : `not available (${(strict as Error).message})`}`,
  ];
  const chosen =
    legacy instanceof Error || legacy === undefined ? (strictAvailable ? strict : legacy) : legacy;
  if (chosen === undefined) {
    return {
      outcome: failed(
        "tls",
        "the server offers no TLS",
        details,
        "The server does not encrypt connections; Entra ID logins need TLS: enable encryption on the server (Azure SQL always has it).",
        { encryption: prelogin.encryption, strictAvailable },
      ),
    };
  }
  if (chosen instanceof Error) {
    return {
      outcome: failed(
        "tls",
        `TLS handshake failed: ${chosen.message}`,
        details,
        "Check that the server's TLS settings allow TLS 1.2.",
        {
          strictAvailable,
        },
      ),
    };
  }
  const cert = chosen.certificate;
  details.push(
    `protocol: ${chosen.protocol ?? "?"}`,
    `certificate: ${dn(cert.subject)}, issued by ${dn(cert.issuer)}`,
    ...(cert.subjectaltname ? [`names: ${cert.subjectaltname}`] : []),
    ...(cert.valid_to ? [`valid until: ${time(new Date(cert.valid_to))}`] : []),
  );
  const data = {
    protocol: chosen.protocol,
    subject: dn(cert.subject),
    issuer: dn(cert.issuer),
    strictAvailable,
    trusted: chosen.authorized,
    ...(chosen.authorizationError !== undefined && { authorizationError: chosen.authorizationError }),
  };
  if (!chosen.authorized) {
    const code = chosen.authorizationError ?? "unknown";
    return {
      outcome: failed(
        "tlsUntrusted",
        untrustedSummary(code, host),
        details,
        untrustedFix(code, dn(cert.issuer), host),
        data,
      ),
    };
  }
  return {
    outcome: {
      verdict: "ok",
      summary: `${chosen.protocol ?? "TLS"}, certificate ${dn(cert.subject)} trusted; strict TDS 8.0 ${strictAvailable ? "available" : "not available"}`,
      details,
      data,
    },
  };
}

function handshake(options: tls.ConnectionOptions, host: string, timeoutInMs: number): Promise<Handshake> {
  return withTimeout(
    new Promise<Handshake>((resolve, reject) => {
      const socket = tls.connect({
        ...options,
        // Node refuses an IP address as SNI (DEP0123); the identity check still uses `host`.
        ...(isIP(host) === 0 && { servername: host }),
        checkServerIdentity: (_name, cert) => tls.checkServerIdentity(host, cert),
        rejectUnauthorized: false,
      });
      socket.once("secureConnect", () => {
        const result: Handshake = {
          protocol: socket.getProtocol(),
          alpn: socket.alpnProtocol,
          authorized: socket.authorized,
          authorizationError:
            socket.authorizationError === undefined ? undefined : String(socket.authorizationError),
          certificate: socket.getPeerCertificate(),
        };
        socket.destroy();
        resolve(result);
      });
      socket.once("error", (error) => {
        socket.destroy();
        reject(error);
      });
      socket.once("close", () => reject(new Error("the server closed the connection during the handshake")));
    }),
    timeoutInMs,
    "the TLS handshake",
  );
}

function withTimeout<T>(promise: Promise<T>, timeoutInMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} got no answer within ${duration(timeoutInMs)}`)),
      timeoutInMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function encryptionText(value: number | undefined): string {
  switch (value) {
    case Encryption.ON:
      return "on";
    case Encryption.REQ:
      return "required";
    case Encryption.OFF:
      return "login only";
    case Encryption.NOT_SUP:
      return "not supported";
    default:
      return "not answered";
  }
}

/** "CN=x, O=y" from a certificate's subject or issuer. */
function dn(name: PeerCertificate["subject"] | undefined): string {
  if (!name) return "?";
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : String(value)}`)
    .join(", ");
}

function untrustedSummary(code: string, host: string): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `the certificate is not for ${host}`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID")
    return `the certificate is not valid now (${code})`;
  return `the certificate is not trusted by this machine (${code})`;
}

function untrustedFix(code: string, issuer: string, host: string): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `Connect with a name the certificate carries (see "names"), not ${host}; drivers take it as the server name (tedious: options.serverName).`;
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return "Renew the server's certificate, or check this machine's clock.";
  }
  return (
    `Trust the CA that issued the server's certificate (${issuer}): NODE_EXTRA_CA_CERTS=/path/to/ca.pem for every Node.js TLS client, ` +
    "or the driver's CA option (tedious: options.cryptoCredentialsDetails.ca). For a development server only: trustServerCertificate: true."
  );
}
