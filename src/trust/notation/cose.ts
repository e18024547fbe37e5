// The COSE_Sign1 form of a Notation signature (signature-specification.md "COSE_Sign1";
// notation-core-go signature/cose/envelope.go on veraison/go-cose): a tagged (18) array of
// [protected (bstr of a map), unprotected (map), payload (bstr), signature (bstr)]. Protected:
// alg (1), crit (2), content type (3) and Notation's attributes, times as tag 1 epoch seconds;
// unprotected: x5chain (33, leaf first), the timestamp countersignature, the signing agent.
import { TrustErrorCode } from '../errors.js';
import { CborError, isCborMap, isTagged, readCbor, sigStructure, type CborMap, type CborValue } from './cbor.js';
import { Header, SigningScheme, type Algorithm, type EnvelopeRead } from './envelope.js';
import { MAX_CHAIN_LENGTH } from './limits.js';

const Label = { ALG: 1, CRIT: 2, CONTENT_TYPE: 3, X5CHAIN: 33 } as const;
/** COSE algorithm identifiers (IANA "COSE Algorithms") of the six Notation allows. */
const COSE_ALG: ReadonlyMap<number, Algorithm> = new Map([
  [-37, 'PS256'],
  [-38, 'PS384'],
  [-39, 'PS512'],
  [-7, 'ES256'],
  [-35, 'ES384'],
  [-36, 'ES512'],
]);
/** Protected labels Notation defines (cose/envelope.go validateCritHeaders systemHeaders). */
const KNOWN: ReadonlySet<number | string> = new Set([Label.ALG, Label.CRIT, Label.CONTENT_TYPE, Header.EXPIRY, Header.SIGNING_SCHEME, Header.SIGNING_TIME, Header.AUTHENTIC_SIGNING_TIME]);

const invalid = (reason: string): EnvelopeRead => ({ ok: false, code: TrustErrorCode.SIGNATURE_INVALID, reason });
const unsupported = (reason: string): EnvelopeRead => ({ ok: false, code: TrustErrorCode.UNSUPPORTED_SIGNATURE, reason });

export function readCose(bytes: Buffer): EnvelopeRead {
  let top: CborValue;
  let protectedMap: CborValue;
  try {
    top = readCbor(bytes, [18, 1]);
    // go-cose Sign1Message.UnmarshalCBOR takes only the tagged form.
    if (!isTagged(top) || top.tag !== 18) return invalid('not a COSE_Sign1_Tagged message (tag 18)');
    const parts = top.value;
    if (!Array.isArray(parts) || parts.length !== 4) return invalid('COSE_Sign1 is not an array of four');
    const [prot, unprot, payload, signature] = parts as CborValue[];
    if (!Buffer.isBuffer(prot) || !isCborMap(unprot) || !Buffer.isBuffer(payload) || !Buffer.isBuffer(signature)) return invalid('COSE_Sign1 parts are not bstr, map, bstr, bstr');
    protectedMap = prot.length === 0 ? new Map() : readCbor(prot, [1]);
    if (!isCborMap(protectedMap)) return invalid('the COSE protected header is not a map');
    return readHeaders({ prot, protectedMap, unprot, payload, signature });
  } catch (e) {
    if (e instanceof CborError) return invalid(`malformed CBOR: ${e.message}`);
    throw e;
  }
}

function readHeaders(m: { prot: Buffer; protectedMap: CborMap; unprot: CborMap; payload: Buffer; signature: Buffer }): EnvelopeRead {
  const p = m.protectedMap;
  // RFC 9052 3: a label must not be both protected and unprotected.
  for (const k of m.unprot.keys()) if (p.has(k)) return invalid(`header ${String(k)} is both protected and unprotected`);
  if (m.signature.length === 0) return invalid('the COSE signature is empty');
  const algId = p.get(Label.ALG);
  const alg = typeof algId === 'number' ? COSE_ALG.get(algId) : undefined;
  if (!alg) return unsupported(`COSE alg ${typeof algId === 'number' ? algId : typeof algId} is none of PS256/384/512, ES256/384/512`);
  const scheme = p.get(Header.SIGNING_SCHEME);
  if (scheme !== SigningScheme.X509 && scheme !== SigningScheme.SIGNING_AUTHORITY) return unsupported(`signing scheme ${typeof scheme === 'string' ? JSON.stringify(scheme.slice(0, 60)) : typeof scheme} is not notary.x509 or notary.x509.signingAuthority`);
  const cty = p.get(Label.CONTENT_TYPE);
  if (typeof cty !== 'string') return invalid('the COSE content type is missing or not a text string');
  const own = scheme === SigningScheme.X509 ? Header.SIGNING_TIME : Header.AUTHENTIC_SIGNING_TIME;
  const signingTime = epoch(p.get(own));
  if (signingTime === undefined) return invalid(`"${own}" is missing or not a tag-1 time`);
  let expiry: number | undefined;
  if (p.has(Header.EXPIRY)) {
    expiry = epoch(p.get(Header.EXPIRY));
    if (expiry === undefined) return invalid(`"${Header.EXPIRY}" is not a tag-1 time`);
    if (expiry <= signingTime) return invalid('the expiry is not after the signing time');
  }
  const crit = critical(p, scheme);
  if (typeof crit === 'string') return invalid(crit);
  const chain = m.unprot.get(Label.X5CHAIN);
  // x5chain: one bstr for a lone certificate, else an array of them (RFC 9360); notation
  // writes the array and notation-core-go reads only the array.
  if (!Array.isArray(chain) || chain.length === 0 || !chain.every((c) => Buffer.isBuffer(c))) return invalid('the certificate chain (x5chain) is not present');
  if (chain.length > MAX_CHAIN_LENGTH) return invalid(`a certificate chain of ${chain.length}, more than ${MAX_CHAIN_LENGTH}`);
  const timestamp = m.unprot.get(Header.TIMESTAMP_SIGNATURE);
  const agent = m.unprot.get(Header.SIGNING_AGENT);
  return {
    ok: true,
    envelope: {
      format: 'cose',
      alg,
      signingScheme: scheme,
      signingTime,
      expiry,
      contentType: cty,
      payload: m.payload,
      signature: m.signature,
      signed: sigStructure(m.prot, m.payload),
      certificates: chain,
      timestampToken: Buffer.isBuffer(timestamp) ? timestamp : undefined,
      signingAgent: typeof agent === 'string' ? agent.slice(0, 200) : undefined,
      unknownCritical: crit,
    },
  };
}

/** A tag-1 epoch time in whole seconds (notation-core-go parseTime takes tag 1 only), as ms. */
function epoch(v: CborValue | undefined): number | undefined {
  if (!isTagged(v) || v.tag !== 1 || typeof v.value !== 'number') return undefined;
  const ms = v.value * 1000;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** cose/envelope.go validateCritHeaders; unknown critical labels are returned for the checks to refuse. */
function critical(p: CborMap, scheme: SigningScheme): string[] | string {
  const crit = p.get(Label.CRIT);
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'number' || typeof c === 'string')) return 'the crit header is missing or not a list of labels';
  const labels = crit;
  const must: (number | string)[] = [Header.SIGNING_SCHEME, ...(p.has(Header.EXPIRY) ? [Header.EXPIRY] : []), ...(scheme === SigningScheme.SIGNING_AUTHORITY ? [Header.AUTHENTIC_SIGNING_TIME] : [])];
  const missing = must.filter((l) => !labels.includes(l));
  if (missing.length > 0) return `these headers are not marked critical: ${missing.join(', ')}`;
  const unknown: string[] = [];
  for (const l of labels) {
    // go-cose (headers.go ensureCritical): every critical label must be present.
    if (!p.has(l)) return `${JSON.stringify(String(l).slice(0, 60))} is marked critical but not present`;
    if (!KNOWN.has(l) && !unknown.includes(String(l))) unknown.push(String(l).slice(0, 60));
  }
  return unknown;
}
