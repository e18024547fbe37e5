// Notary writes `expires` as Go's RFC 3339 with up to nanosecond fractions and any offset
// (time.RFC3339Nano); JavaScript dates keep milliseconds, so the fraction is truncated.
const RFC3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch, or undefined when the text is not RFC 3339. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', , sign, oh = '0', om = '0'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(base);
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 60 || Number(oh) > 23 || Number(om) > 59) return undefined;
  const offset = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return base - offset;
}
