// The trust layer's failures: TrustError lives in src/shared (src/registry raises it too, and sits
// below src/trust); the trust kinds import it from here.
export { isTrustError, TrustError, TrustErrorCode } from '../shared/trust-error.js';
