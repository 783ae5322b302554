import { once } from "node:events";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority } from "./certificate-authority.js";

describe("createCertificateAuthority", () => {
  it("issues a server certificate that a client trusting only the CA accepts for 127.0.0.1", async () => {
    const ca = await createCertificateAuthority();
    const leaf = await ca.issue({
      commonName: "localhost",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    const server = https.createServer({ cert: leaf.certificatePem, key: leaf.privateKeyPem }, (_req, res) => {
      res.end("ok");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: "127.0.0.1", port, path: "/", ca: ca.certificatePem }, (res) => {
            let text = "";
            res.on("data", (chunk) => (text += chunk));
            res.on("end", () => resolve(text));
          })
          .on("error", reject);
      });
      expect(body).toBe("ok");
      // A client that does not trust this CA must refuse the same server.
      const refused = await new Promise<Error>((resolve) => {
        https
          .get({ host: "127.0.0.1", port, path: "/" }, () => resolve(new Error("accepted")))
          .on("error", resolve);
      });
      expect(refused.message).toMatch(/self[- ]signed|unable to verify|local issuer/i);
    } finally {
      server.close();
    }
    expect(leaf.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
    expect(leaf.bundlePem).toContain("BEGIN PRIVATE KEY");
  });
});
