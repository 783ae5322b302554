import { createCertificateAuthority } from "../pki/certificate-authority.js";

/** A server certificate with the CA that issued it (what clients pass as `ca`). */
export interface StandInCertificate {
  certificatePem: string;
  privateKeyPem: string;
  caPem: string;
}

let issued: Promise<StandInCertificate> | undefined;

/**
 * The certificate a stand-in uses when none is configured: issued once per process by a throwaway
 * CA for localhost and 127.0.0.1 (RSA key generation costs ~0.5 s and tests start many stand-ins).
 */
export function defaultCertificate(): Promise<StandInCertificate> {
  issued ??= (async () => {
    const ca = await createCertificateAuthority("entra-sql stand-in CA");
    const leaf = await ca.issue({
      commonName: "localhost",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    return {
      certificatePem: leaf.certificatePem,
      privateKeyPem: leaf.privateKeyPem,
      caPem: ca.certificatePem,
    };
  })();
  return issued;
}
