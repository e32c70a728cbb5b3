import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Settings } from '../../config/settings';
import { O365AuthError } from './errors';

/** App setting holding the key that encrypts the delegated token caches: base64 of 32 random bytes. */
export const CACHE_KEY_SETTING = 'O365_CACHE_KEY';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format marker and version of an encrypted cache blob. */
const MAGIC = Buffer.from('CLO365C1');

/** The AES-256 key from the settings; a clear error when it is missing or malformed. */
export function cacheKeyFromSettings(settings: Settings): Buffer {
  const raw = settings[CACHE_KEY_SETTING];
  if (!raw) {
    throw new O365AuthError(
      'O365_CACHE_KEY_MISSING',
      `app setting ${CACHE_KEY_SETTING} is not set: delegated O365 launchers keep their token cache encrypted with it ` +
        `(create one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))", keep it in Key Vault)`,
    );
  }
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== KEY_BYTES || key.toString('base64') !== raw.trim()) {
    throw new O365AuthError('O365_CACHE_KEY_INVALID', `app setting ${CACHE_KEY_SETTING} must be the base64 of exactly ${KEY_BYTES} bytes`);
  }
  return key;
}

/**
 * AES-256-GCM: MAGIC | IV (12) | ciphertext | tag (16). `context` (the launcher id) is
 * authenticated too, so a cache copied to another launcher does not decrypt there.
 */
export function encryptCache(plain: string, key: Buffer, context: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([MAGIC, iv, body, cipher.getAuthTag()]);
}

export function decryptCache(blob: Buffer, key: Buffer, context: string): string {
  if (blob.length < MAGIC.length + IV_BYTES + TAG_BYTES || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new O365AuthError('O365_CACHE_UNREADABLE', 'the stored token cache is not in the expected encrypted format');
  }
  const iv = blob.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  const body = blob.subarray(MAGIC.length + IV_BYTES, blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new O365AuthError('O365_CACHE_UNREADABLE', `the stored token cache cannot be decrypted (${CACHE_KEY_SETTING} changed, or the blob belongs to another launcher)`, { cause: err });
  }
}
