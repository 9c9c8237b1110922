import { createHmac, timingSafeEqual } from 'node:crypto';

/** The HTTP header that carries a peer message's signature (on requests and on answers). */
export const PEER_SIGNATURE_HEADER = 'x-ag-signature';

/**
 * Signs a peer request body: HMAC-SHA256 with the group's `peer_secret` over the exact bytes sent, base64url.
 *
 * @example
 * const signature = signPeerRequest(secret, body);
 * verifyPeerRequest(secret, body, signature) // true
 */
export function signPeerRequest(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update('ag-peer-request\n').update(body).digest('base64url');
}

/**
 * Signs an answer, bound to the request it answers (its signature), so that an old answer cannot be passed off as
 * the answer to a new request.
 */
export function signPeerResponse(secret: string, requestSignature: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update('ag-peer-response\n').update(requestSignature).update('\n').update(body).digest('base64url');
}

/** Whether `signature` is `expected`, compared in constant time (a missing or malformed signature is false). */
export function signaturesMatch(expected: string, signature: string | undefined): boolean {
  if (signature === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(signature);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether `signature` is the request signature of `body` under `secret`. */
export function verifyPeerRequest(secret: string, body: Buffer | string, signature: string | undefined): boolean {
  return signaturesMatch(signPeerRequest(secret, body), signature);
}
