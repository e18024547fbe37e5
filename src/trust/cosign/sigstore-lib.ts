// sigstore-js, loaded on first use. Its packages (CommonJS) cost some 30 ms to load, and a keyed
// signature checked without the log needs none of them: `trustgate verify --kind cosign --key`
// and a webhook whose policies are all keyed offline should not pay for them.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

type Core = typeof import('@sigstore/core');
type BundleLib = typeof import('@sigstore/bundle');
type VerifyLib = typeof import('@sigstore/verify');
type Specs = typeof import('@sigstore/protobuf-specs');

let core: Core | undefined;
let bundle: BundleLib | undefined;
let verify: VerifyLib | undefined;
let specs: Specs | undefined;

export const sigstoreCore = (): Core => (core ??= load('@sigstore/core') as Core);
export const sigstoreBundle = (): BundleLib => (bundle ??= load('@sigstore/bundle') as BundleLib);
export const sigstoreVerify = (): VerifyLib => (verify ??= load('@sigstore/verify') as VerifyLib);
export const sigstoreSpecs = (): Specs => (specs ??= load('@sigstore/protobuf-specs') as Specs);
