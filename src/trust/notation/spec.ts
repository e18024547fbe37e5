// TEMP stand-in (engineer policy writes the real file): only the export the CLI compiles against.
import { TrustKind } from '../kind.js';
import type { NotationSpec, TrustStoreRef } from './types.js';

export function notationSpecOf(
  trustPolicy: unknown,
  stores: readonly { ref: TrustStoreRef; pem: string }[],
  registry: { insecure: boolean; caBundle: string | undefined },
): { spec: NotationSpec } | { problems: string[] } {
  if (typeof trustPolicy !== 'object' || trustPolicy === null) return { problems: ['trust policy: stand-in expects an object'] };
  void stores;
  return { spec: { kind: TrustKind.NOTATION, trustPolicy: { version: '1.0', statements: [] }, trustStores: new Map(), registry, key: 'stand-in' } };
}
