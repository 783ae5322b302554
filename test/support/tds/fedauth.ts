import { ByteReader } from "./byte-reader.js";
import { TdsProtocolError } from "./errors.js";

// Federated authentication in LOGIN7's FeatureExt (MS-TDS 2.2.6.4, FEDAUTH feature 0x02). The first
// data byte carries `library << 1 | echo`:
// - library 0x01 SECURITYTOKEN: the client already holds an access token and sends it inline
//   (tedious `azure-active-directory-access-token`).
// - library 0x02 ADAL/MSAL workflow: the client asks the server where to get a token; the server
//   answers with FEDAUTHINFO (STS URL + SPN), the client fetches a token for `${spn}/.default` and
//   sends it in a FEDAUTH_TOKEN message (packet type 0x08).

export const FEDAUTH_FEATURE_ID = 0x02;
export const UTF8_SUPPORT_FEATURE_ID = 0x0a;

export const FedAuthLibrary = {
  SECURITY_TOKEN: 0x01,
  MSAL: 0x02,
} as const;

export type FedAuthRequest =
  | { library: "security-token"; echo: boolean; token: string }
  | { library: "msal"; echo: boolean; workflow: number };

export function parseFedAuthFeature(data: Buffer): FedAuthRequest {
  const reader = new ByteReader(data);
  const options = reader.u8();
  const library = options >> 1;
  const echo = (options & 0x01) === 1;
  if (library === FedAuthLibrary.SECURITY_TOKEN) {
    const length = reader.u32le();
    const token = reader.bytes(length).toString("utf16le");
    return { library: "security-token", echo, token };
  }
  if (library === FedAuthLibrary.MSAL) {
    return { library: "msal", echo, workflow: reader.remaining > 0 ? reader.u8() : 0 };
  }
  throw new TdsProtocolError(`unsupported FEDAUTH library 0x${library.toString(16)}`);
}

/** The FEDAUTH_TOKEN message: u32 data length, u32 token length, the token (UTF-16LE), optional nonce. */
export function parseFedAuthTokenMessage(payload: Buffer): string {
  const reader = new ByteReader(payload);
  const dataLength = reader.u32le();
  if (dataLength > reader.remaining) {
    throw new TdsProtocolError("FEDAUTH_TOKEN data length exceeds the message");
  }
  const tokenLength = reader.u32le();
  return reader.bytes(tokenLength).toString("utf16le");
}
