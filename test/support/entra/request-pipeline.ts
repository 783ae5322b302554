import type http from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import type { PrincipalKind } from "./directory.js";
import type { EndpointName } from "./endpoints.js";
import { EntraError, entraErrorBody } from "./entra-errors.js";
import type { LocalEntraEventHandler } from "./events.js";
import type { AppliedFaults, FaultKind, Faults } from "./faults.js";
import { newGuid } from "./ids.js";
import type { RequestLogEntry, Stats } from "./stats.js";

// Every request on every listener goes through here: read the body, find out which endpoint and
// which client it is for, apply injected faults, run the handler, count and log it (without
// secrets), emit events, write the response. Handlers stay pure request -> result functions.

const MAX_BODY_BYTES = 1024 * 1024;

export interface RequestContext {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client's `client-request-id` (MSAL sends one), echoed in errors as Entra does. */
  correlationId: string | undefined;
  /** The IdP's now (clock offset applied), epoch ms, fixed for the request. */
  nowMs: number;
}

export interface Identity {
  clientId?: string;
  upn?: string;
}

export interface IssuedToken {
  kind: PrincipalKind;
  objectId: string;
  clientId?: string;
  upn?: string;
  resource: string;
  expiresOn: number;
  /** How the token endpoint's client proved itself (a client secret or an assertion); absent elsewhere. */
  clientAuth?: ClientAuthMethod;
}

/** A confidential client's proof at the token endpoint: workload identity's is a federated assertion. */
export type ClientAuthMethod = "secret" | "certificate" | "federated";

export interface HandlerResult {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as the JSON body. */
  json?: unknown;
  /** Raw body when `json` is absent. */
  text?: string;
  contentType?: string;
  identity?: Identity;
  resource?: string;
  /** Error code for the request log. */
  error?: string;
  issued?: IssuedToken;
  /** Request-log path override (the CLIs log their command). */
  logPath?: string;
}

export type InjectedFault = NonNullable<AppliedFaults["response"]>;

export interface Route {
  endpoint: EndpointName;
  /** Who the request is for, before handling: used to target per-client faults. */
  identify?(ctx: RequestContext): Identity;
  handle(ctx: RequestContext): HandlerResult | Promise<HandlerResult>;
  /** Endpoint-specific rendering of an injected fault (default: by endpoint family). */
  renderFault?(fault: InjectedFault, ctx: RequestContext, identity: Identity): HandlerResult;
}

/** Maps a request to its route, or answers it directly (404, 405, 403): those are not counted. */
export type Router = (method: string, url: URL, headers: http.IncomingHttpHeaders) => Route | HandlerResult;

export interface PipelineDeps {
  faults: Faults;
  stats: Stats;
  emit: LocalEntraEventHandler;
  now(): number;
  authorityHost: string;
}

export function createRequestHandler(router: Router, deps: PipelineDeps): http.RequestListener {
  return (req, res) => {
    void handleRequest(router, deps, req, res).catch((error: unknown) => {
      deps.emit({ type: "error", message: errorMessage(error) });
      if (!res.headersSent) writeResult(res, internalError(error));
      else res.destroy();
    });
  };
}

async function handleRequest(
  router: Router,
  deps: PipelineDeps,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const started = performance.now();
  const method = req.method ?? "GET";
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const body = await readBody(req);
  if (body === undefined) {
    writeResult(res, {
      status: 413,
      json: { error: "invalid_request", error_description: "Body too large" },
    });
    return;
  }
  const route = router(method, url, req.headers);
  if (!("endpoint" in route)) {
    writeResult(res, route);
    return;
  }
  const correlationHeader = req.headers["client-request-id"];
  const ctx: RequestContext = {
    method,
    url,
    headers: req.headers,
    body,
    correlationId: typeof correlationHeader === "string" ? correlationHeader : undefined,
    nowMs: deps.now(),
  };
  const identity = route.identify?.(ctx) ?? {};
  const applied = deps.faults.take(route.endpoint, [identity.clientId, identity.upn]);
  if (applied.latencyMs > 0) {
    await delay(applied.latencyMs);
    ctx.nowMs = deps.now();
  }
  let result: HandlerResult;
  if (applied.response) {
    result = route.renderFault
      ? route.renderFault(applied.response, ctx, identity)
      : defaultFaultResponse(applied.response, route.endpoint, ctx, identity, deps.authorityHost);
  } else {
    try {
      result = await route.handle(ctx);
    } catch (error) {
      deps.emit({ type: "error", endpoint: route.endpoint, message: errorMessage(error) });
      result = internalError(error);
    }
  }
  const who = { ...identity, ...result.identity };
  const fault: FaultKind | undefined =
    applied.response?.kind ?? (applied.latencyMs > 0 ? "latency" : undefined);
  const entry: RequestLogEntry = {
    time: Date.now(),
    endpoint: route.endpoint,
    method,
    path: result.logPath ?? url.pathname,
    ...(who.clientId !== undefined ? { clientId: who.clientId } : {}),
    ...(who.upn !== undefined ? { upn: who.upn } : {}),
    ...(result.resource !== undefined ? { resource: result.resource } : {}),
    status: result.status,
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(fault !== undefined ? { fault } : {}),
    durationMs: Math.round((performance.now() - started) * 10) / 10,
  };
  // Counted before the response is written: a client that got its answer sees itself counted.
  deps.stats.recordRequest(entry);
  if (result.issued) {
    deps.stats.recordTokenIssued(route.endpoint, result.issued.upn ?? result.issued.clientId ?? "");
    deps.emit({ type: "tokenIssued", endpoint: route.endpoint, ...result.issued });
  }
  deps.emit({ type: "request", entry });
  writeResult(res, result);
}

function writeResult(res: http.ServerResponse, result: HandlerResult): void {
  const body = result.json !== undefined ? JSON.stringify(result.json) : (result.text ?? "");
  const contentType =
    result.contentType ??
    (result.json !== undefined ? "application/json; charset=utf-8" : "text/plain; charset=utf-8");
  res.writeHead(result.status, {
    "content-type": contentType,
    "cache-control": "no-store, no-cache",
    "content-length": Buffer.byteLength(body),
    ...result.headers,
  });
  res.end(body);
}

async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Entra-style error response for an `EntraError`. */
export function entraErrorResult(
  error: EntraError,
  ctx: RequestContext,
  authorityHost: string,
): HandlerResult {
  return {
    status: error.status,
    json: entraErrorBody(error, { nowMs: ctx.nowMs, correlationId: ctx.correlationId, authorityHost }),
    error: error.error,
  };
}

/** A body that starts like a token response and stops mid-string. */
export const MALFORMED_JSON = '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1Qi';

function defaultFaultResponse(
  fault: InjectedFault,
  endpoint: EndpointName,
  ctx: RequestContext,
  identity: Identity,
  authorityHost: string,
): HandlerResult {
  if (fault.kind === "malformedJson") {
    return { status: 200, text: MALFORMED_JSON, contentType: "application/json; charset=utf-8" };
  }
  const retryAfter =
    fault.kind === "throttle" ? { "retry-after": String(fault.retryAfterSeconds) } : undefined;
  const status = fault.kind === "serverError" ? (fault.status ?? 500) : fault.kind === "throttle" ? 429 : 401;
  const [error, description] =
    fault.kind === "serverError"
      ? ["temporarily_unavailable", "The service is temporarily unavailable. [local Entra: injected fault]"]
      : fault.kind === "throttle"
        ? ["temporarily_unavailable", "Too many requests. [local Entra: injected fault]"]
        : [
            "invalid_client",
            `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${identity.clientId ?? ""}'. [local Entra: injected fault]`,
          ];
  switch (endpoint) {
    case "appService":
      // App Service answers `{ statusCode, message, correlationId }`.
      return {
        status: fault.kind === "invalidClient" ? 400 : status,
        json: {
          statusCode: fault.kind === "invalidClient" ? 400 : status,
          message: description,
          correlationId: newGuid(),
        },
        ...(retryAfter ? { headers: retryAfter } : {}),
        error,
      };
    case "imds":
      return {
        status: fault.kind === "invalidClient" ? 400 : status,
        json: { error, error_description: description },
        ...(retryAfter ? { headers: retryAfter } : {}),
        error,
      };
    default: {
      const code = fault.kind === "invalidClient" ? 7000215 : fault.kind === "throttle" ? 90055 : 50000;
      const text = description.replace(/^AADSTS\d+: /, "");
      const body = entraErrorBody(new EntraError(400, error, code, text), {
        nowMs: ctx.nowMs,
        correlationId: ctx.correlationId,
        authorityHost,
      });
      return { status, json: body, ...(retryAfter ? { headers: retryAfter } : {}), error };
    }
  }
}

function internalError(error: unknown): HandlerResult {
  return {
    status: 500,
    json: { error: "server_error", error_description: `local Entra internal error: ${errorMessage(error)}` },
    error: "server_error",
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
