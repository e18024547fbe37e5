import { TrustError } from './errors.js';
import { keyId, parsePublicKey, type PublicKey, type RawKey } from './keys.js';

/**
 * The keys one document declares, by ID. Every ID is recomputed from the key's content when the
 * keyring is built (a mislabelled key is refused); keys are parsed only when a role uses them,
 * and parsePublicKey keeps parsed keys by that verified ID.
 */
export class Keyring {
  constructor(
    private readonly raw: ReadonlyMap<string, RawKey>,
    private readonly where: string,
  ) {
    for (const [id, key] of raw) {
      const actual = keyId(key.keytype, key.publicBytes);
      if (actual !== id) {
        throw new TrustError('INVALID_METADATA', `${where}: key listed as ${short(id)} has ID ${short(actual)}`);
      }
    }
  }

  has(id: string): boolean {
    return this.raw.has(id);
  }

  /** @throws TrustError UNSUPPORTED_KEY when the key's type or encoding is not usable. */
  get(id: string): PublicKey | undefined {
    const raw = this.raw.get(id);
    return raw && parsePublicKey(raw, `${this.where} key ${short(id)}`, id);
  }
}

export function short(id: string): string {
  return id.slice(0, 12);
}
