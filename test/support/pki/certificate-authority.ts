import { createHash, webcrypto } from "node:crypto";
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

// A throwaway certificate authority for the local stand-ins. The local Entra ID (HTTPS) and the
// SQL stand-in (TLS inside PRELOGIN and TDS 8.0 strict) present certificates issued here, and
// clients trust them through an explicit `ca` option: never a process-wide setting, and never
// `rejectUnauthorized: false`, so the TLS paths are verified the way they are against Azure.

x509.cryptoProvider.set(webcrypto as Parameters<typeof x509.cryptoProvider.set>[1]);

const RSA_ALGORITHM = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

/** A certificate with its private key, both PEM, plus the thumbprints Entra ID works with. */
export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  /** SHA-1 thumbprint, upper-case hex (what the Azure portal shows). */
  thumbprintSha1: string;
  /** SHA-256 thumbprint, base64url (the `x5t#S256` header MSAL puts in client assertions). */
  thumbprintSha256: string;
  /** The certificate followed by its private key, the PEM bundle ClientCertificateCredential reads. */
  bundlePem: string;
}

export interface IssueOptions {
  commonName: string;
  /** DNS names for the subjectAltName extension (server certificates). */
  dnsNames?: string[];
  /** IP addresses for the subjectAltName extension (server certificates). */
  ipAddresses?: string[];
  /** "server" adds serverAuth, "client" adds clientAuth. Default "server". */
  usage?: "server" | "client";
}

export interface CertificateAuthority {
  /** The CA certificate, PEM: what clients pass as `ca`. */
  certificatePem: string;
  issue(options: IssueOptions): Promise<IssuedCertificate>;
}

export async function createCertificateAuthority(
  name = "entra-sql local stand-ins CA",
): Promise<CertificateAuthority> {
  const caKeys = await webcrypto.subtle.generateKey(RSA_ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 60 * 60_000),
    notAfter: new Date(now + 2 * 24 * 60 * 60_000),
    keys: caKeys,
    signingAlgorithm: RSA_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    certificatePem: caCert.toString("pem"),
    async issue(options) {
      const keys = await webcrypto.subtle.generateKey(RSA_ALGORITHM, true, ["sign", "verify"]);
      const altNames: x509.JsonGeneralName[] = [
        ...(options.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
        ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
      ];
      const usage = options.usage ?? "server";
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ];
      if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: `CN=${options.commonName}`,
        issuer: caCert.subject,
        notBefore: new Date(now - 60 * 60_000),
        notAfter: new Date(now + 2 * 24 * 60 * 60_000),
        signingAlgorithm: RSA_ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions,
      });
      const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
      const privateKeyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
      const certificatePem = cert.toString("pem");
      const der = Buffer.from(cert.rawData);
      return {
        certificatePem,
        privateKeyPem,
        thumbprintSha1: createHash("sha1").update(der).digest("hex").toUpperCase(),
        thumbprintSha256: createHash("sha256").update(der).digest("base64url"),
        bundlePem: `${certificatePem}\n${privateKeyPem}\n`,
      };
    },
  };
}

function randomSerial(): string {
  // Positive, non-zero 16-byte serial (the high bit clear keeps the DER integer positive).
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 1) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString("hex");
}
