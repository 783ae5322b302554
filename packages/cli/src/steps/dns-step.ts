import { lookup } from "node:dns/promises";
import { failed, type StepOutcome } from "../step.js";

// Step 3a: the server name resolves (every address, in the order the system gives them).

export interface DnsStepValue {
  outcome: StepOutcome;
  addresses?: string[];
}

export async function dnsStep(host: string): Promise<DnsStepValue> {
  try {
    const addresses = (await lookup(host, { all: true })).map((entry) => entry.address);
    return {
      addresses,
      outcome: {
        verdict: "ok",
        summary: `${host} -> ${addresses.join(", ")}`,
        details: [],
        data: { addresses },
      },
    };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      outcome: failed(
        "dns",
        `${host} does not resolve (${typeof code === "string" ? code : "lookup failed"})`,
        [],
        code === "EAI_AGAIN"
          ? "The DNS server did not answer: check the network, VPN and DNS settings, then try again."
          : "Check the server name (Azure SQL: myserver.database.windows.net). Behind a private endpoint, this machine's DNS must resolve the privatelink zone.",
        { code },
      ),
    };
  }
}
