import { decodePayload } from "@entra-sql/core/internal";
import type { TokenArgs } from "../args.js";
import type { Writer } from "../output.js";
import { recordSteps } from "../report.js";
import { scopeFor } from "../scope.js";
import { skippedStep, timedStep } from "../step.js";
import { credentialStep } from "../steps/credential-step.js";
import { identityStep } from "../steps/identity-step.js";

// `entra-sql token`: which source gives a token for the scope, and the token's claims (its payload,
// decoded: no signature, so nothing anyone could log in with). The token itself only with `--raw`,
// on stdout alone, with a warning on stderr.

export const RAW_TOKEN_WARNING =
  "entra-sql token: WARNING: the next line on stdout is a bearer token: anyone who has it can log in as this identity until it expires. Do not paste it into tickets, chats or logs.\n";

export async function token(args: TokenArgs, writer: Writer, env: NodeJS.ProcessEnv): Promise<number> {
  const scope = scopeFor("token", args.scope);
  // With --raw, stdout carries the token alone: the report goes to stderr.
  const reportWriter: Writer = args.raw
    ? { out: (text) => writer.err(text), err: (text) => writer.err(text) }
    : writer;
  const report = recordSteps(reportWriter, args.json && !args.raw);
  const credential = await timedStep("credential", "credential", () => credentialStep(args, scope, env));
  const details = credential.token;
  try {
    report.add(credential.result);
    if (args.raw) {
      if (!details) return report.finish({ command: "token" });
      writer.err(RAW_TOKEN_WARNING);
      writer.out(`${details.token}\n`);
      return 0;
    }
    const identity = details
      ? await timedStep("identity", "who am I", async () =>
          identityStep(details, credential.receivedAt ?? Date.now(), scope),
        )
      : undefined;
    report.add(identity?.result ?? skippedStep("identity", "who am I", "no token"));
    let claims: Record<string, unknown> | undefined;
    try {
      claims = details ? decodePayload(details.token) : undefined;
    } catch {
      claims = undefined;
    }
    if (claims && !args.json) writer.out(`claims:\n${JSON.stringify(claims, null, 2)}\n`);
    return report.finish({
      command: "token",
      target: { scope, credential: args.credential },
      extra: { identity: identity?.result.data?.identity, claims },
    });
  } finally {
    credential.tokenSource?.close();
  }
}
