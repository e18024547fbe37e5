import { parseReference } from '../../src/reference/index.js';
import { NO_PINS, TrustClient, verifyImage, type RootPins, type SignerRequirement, type VerifiedImage } from '../../src/trust/index.js';
import { RecordedFetcher } from './recorded-fetcher.js';

export interface VerifyOpts {
  pins?: RootPins;
  signers?: SignerRequirement[];
  allowUnsignedDigests?: boolean;
  now?: number;
  client?: TrustClient;
  fetcher?: RecordedFetcher;
}

/** Verifies `image` against in-memory metadata, as `trustgate verify` would against a server. */
export function verifyFiles(files: ReadonlyMap<string, Buffer>, image: string, opts: VerifyOpts = {}): Promise<VerifiedImage> {
  const now = opts.now;
  const client = opts.client ?? new TrustClient(now === undefined ? {} : { now: () => now });
  return verifyImage(client, parseReference(image), {
    server: 'https://notary.test',
    pins: opts.pins ?? NO_PINS,
    signers: opts.signers ?? [],
    allowUnsignedDigests: opts.allowUnsignedDigests ?? false,
    caBundle: undefined,
    credentials: undefined,
    timeoutMs: 10_000,
    fetcher: opts.fetcher ?? new RecordedFetcher(files),
  });
}

/** The TrustError code a promise rejects with (fails the test if it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? `not a coded error: ${String(error)}`;
  }
  throw new Error('expected a refusal, but verification succeeded');
}
