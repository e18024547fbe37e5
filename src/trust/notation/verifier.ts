// TEMP stand-in (engineer verify writes the real file): only the export the CLI and serve compile against.
import type { ImageReference } from '../../reference/index.js';
import type { RegistryClient } from '../../registry/oci/types.js';
import { TrustError, TrustErrorCode } from '../errors.js';
import { TrustKind, type KindVerifier, type Verified, type VerifyContext } from '../kind.js';
import type { NotationSpec } from './types.js';

export class NotationVerifier implements KindVerifier<NotationSpec> {
  readonly kind = TrustKind.NOTATION;
  constructor(private readonly client: RegistryClient) {}
  specKey(spec: NotationSpec): string {
    return spec.key;
  }
  endpoint(ref: ImageReference): string {
    return ref.registry;
  }
  verify(ref: ImageReference, _spec: NotationSpec, _ctx: VerifyContext): Promise<Verified> {
    void this.client;
    return Promise.reject(new TrustError(TrustErrorCode.NO_SIGNATURES, `${ref.name}: stand-in verifier`));
  }
}
