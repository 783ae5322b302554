import type { PrincipalKind } from "./directory.js";
import type { EndpointName, ListenerName } from "./endpoints.js";
import type { FaultKind, FaultTarget } from "./faults.js";
import type { ClientAuthMethod } from "./request-pipeline.js";
import type { RequestLogEntry } from "./stats.js";

// Diagnostics events (`onEvent`). Like the request log, events carry no secret, assertion or token.

export type LocalEntraEvent =
  | { type: "request"; entry: RequestLogEntry }
  | {
      type: "tokenIssued";
      endpoint: EndpointName;
      kind: PrincipalKind;
      objectId: string;
      clientId?: string;
      upn?: string;
      resource: string;
      /** epoch ms */
      expiresOn: number;
      /** At the token endpoint: the client's proof (secret, certificate, federated assertion). */
      clientAuth?: ClientAuthMethod;
    }
  | { type: "faultInjected" | "faultCleared"; id: number; kind: FaultKind; endpoint: FaultTarget }
  | { type: "listener"; listener: ListenerName; state: "suspended" | "resumed" }
  | { type: "keyRotated"; kid: string }
  /** An unexpected exception inside a handler (answered with HTTP 500). */
  | { type: "error"; endpoint?: EndpointName; message: string };

export type LocalEntraEventHandler = (event: LocalEntraEvent) => void;
