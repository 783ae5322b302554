import type { DoctorArgs } from "../args.js";
import type { Writer } from "../output.js";
import { recordSteps } from "../report.js";
import { scopeFor } from "../scope.js";
import { skippedStep, timedStep } from "../step.js";
import { credentialStep } from "../steps/credential-step.js";
import { dnsStep } from "../steps/dns-step.js";
import { identityStep } from "../steps/identity-step.js";
import { lifetimeStep } from "../steps/lifetime-step.js";
import { loginStep } from "../steps/login-step.js";
import { tcpStep } from "../steps/tcp-step.js";
import { tlsStep } from "../steps/tls-step.js";

// `entra-sql doctor`: the steps in order, each one line with its time and verdict. A step that needs
// an earlier one's result is skipped when that one failed; the network steps run even without a
// token, so one run reports both problems. The exit code is the first failure's.

export async function doctor(args: DoctorArgs, writer: Writer, env: NodeJS.ProcessEnv): Promise<number> {
  const scope = scopeFor("doctor", args.scope, args.server);
  const target = {
    server: args.server,
    port: args.port,
    database: args.database,
    credential: args.credential,
    tokenMode: args.tokenMode,
    scope,
  };
  if (!args.json) {
    writer.out(
      `entra-sql doctor: ${args.server}:${args.port}, database ${args.database}, credential ${args.credential.join(",")}, token mode ${args.tokenMode}\n`,
    );
  }
  const report = recordSteps(writer, args.json);
  const credential = await timedStep("credential", "credential", () => credentialStep(args, scope, env));
  report.add(credential.result);
  const { token, tokenSource } = credential;
  try {
    const identity = token
      ? await timedStep("identity", "who am I", async () =>
          identityStep(token, credential.receivedAt ?? Date.now(), scope),
        )
      : undefined;
    report.add(identity?.result ?? skippedStep("identity", "who am I", "no token"));

    const dns = await timedStep("dns", "dns", () => dnsStep(args.server));
    report.add(dns.result);
    const addresses = dns.addresses;
    const tcp = addresses
      ? await timedStep("tcp", "tcp", () => tcpStep(addresses, args.port, args.timeoutInMs))
      : undefined;
    report.add(tcp?.result ?? skippedStep("tcp", "tcp", "the name did not resolve"));
    const address = tcp?.address;
    const tls = address
      ? await timedStep("tls", "tls", () => tlsStep(args.server, address, args.port, args.timeoutInMs))
      : undefined;
    report.add(tls?.result ?? skippedStep("tls", "tls", "no TCP connection"));

    if (!token || !tokenSource) {
      report.add(skippedStep("login", "login", "no token"));
      report.add(skippedStep("lifetime", "lifetime", "no token"));
    } else {
      if (tls?.result.verdict === "ok" || tls?.result.verdict === "warn") {
        const login = await timedStep("login", "login", () =>
          loginStep(
            {
              server: args.server,
              port: args.port,
              database: args.database,
              tokenMode: args.tokenMode,
              timeoutInMs: args.timeoutInMs,
              roles: args.roles,
            },
            token,
            tokenSource,
            identity?.identity,
          ),
        );
        report.add(login.result);
      } else {
        report.add(skippedStep("login", "login", "the network checks failed"));
      }
      report.add(
        (
          await timedStep("lifetime", "lifetime", async () =>
            lifetimeStep(token, tokenSource, identity?.identity),
          )
        ).result,
      );
    }
    return report.finish({ command: "doctor", target, extra: { identity: identity?.result.data?.identity } });
  } finally {
    tokenSource?.close();
  }
}
