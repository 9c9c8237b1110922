import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { PeerMessageRejectedError } from '../api/errors.js';

const PREFIX = 'sealed:v1:';

function keyOf(peerSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', peerSecret, 'availability-group', 'peer-seal-v1', 32));
}

/**
 * Encrypts a secret for the peer channel (AES-256-GCM under a key derived from `peer_secret`), so that the TSIG
 * secret a Primary hands a joining node is not readable on an `http` wire.
 *
 * @example
 * openSealed(peerSecret, seal(peerSecret, tsigSecret)) === tsigSecret // true
 */
export function seal(peerSecret: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(peerSecret), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Decrypts what {@link seal} produced; throws `PeerMessageRejectedError` when it was altered or sealed with another secret. */
export function openSealed(peerSecret: string, sealed: string): string {
  if (!sealed.startsWith(PREFIX)) throw new PeerMessageRejectedError('A sealed value has an unknown format.');
  const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(peerSecret), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new PeerMessageRejectedError('A sealed value could not be opened: altered, or sealed with another peer secret.');
  }
}
