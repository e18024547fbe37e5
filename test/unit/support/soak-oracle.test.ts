// The chaos soak's oracle, schedule and reading of the API server's answers (bench/soak/): a
// soak that judged wrongly would report "0 wrong admissions" for nothing, so each rule is
// checked here on its own, with made-up times.
import { Oracle, type Outcome } from '../../../bench/soak/oracle.js';
import { outcomeOf } from '../../../bench/soak/outcome.js';
import { FAULT_KINDS, makeSchedule } from '../../../bench/soak/schedule.js';

const T = { maxTtlMs: 5_000, recoveryMs: 8_000, policyMs: 10_000 };
const REF = 'r.example/team/api:1.0';
const [D1, D2, D3] = ['sha256:' + '1'.repeat(64), 'sha256:' + '2'.repeat(64), 'sha256:' + '3'.repeat(64)];
const pinned = (digest: string, ref = REF): Outcome => ({ result: 'admitted', images: [`${ref}@${digest}`] });
const denied = (message = 'TAG_NOT_SIGNED'): Outcome => ({ result: 'denied', by: 'trustgate', message });

function oracle(): Oracle {
  const o = new Oracle(T);
  o.signed(REF, D1, -100_000, -99_000); // signed at set-up, long before the load
  return o;
}

describe('admissions', () => {
  it('pinned to the signed digest: admitted; an unsigned tag, an attack, a digest never signed: wrong', () => {
    const o = oracle();
    o.attack('r.example/attack/app:1.0');
    expect(o.judge([REF], 2_000, 2_100, pinned(D1)).verdict).toBe('admitted');
    expect(o.judge(['r.example/team/api:edge'], 2_000, 2_100, pinned(D1, 'r.example/team/api:edge')).verdict).toBe('wrong-admission');
    expect(o.judge(['r.example/attack/app:1.0'], 2_000, 2_100, pinned(D1, 'r.example/attack/app:1.0')).verdict).toBe('wrong-admission');
    expect(o.judge([`${REF}@${D2}`], 2_000, 2_100, pinned(D2)).verdict).toBe('wrong-admission');
    expect(o.judge([REF], 2_000, 2_100, pinned(D2))).toMatchObject({ verdict: 'wrong-admission', why: expect.stringMatching(/not its signed digest/) });
    expect(o.judge([REF], 2_000, 2_100, { result: 'admitted', images: [REF] })).toMatchObject({ verdict: 'wrong-admission', why: expect.stringMatching(/not pinned/) });
    expect(o.judge([REF], 2_000, 2_100, { result: 'admitted', images: [] })).toMatchObject({ verdict: 'wrong-admission' });
  });

  it('after a re-signing, the previous digest only within the cache lifetime (plus recovery), unless stale in an outage', () => {
    const o = oracle();
    o.signed(REF, D2, 20_000, 21_000);
    const edge = 21_000 + T.maxTtlMs + T.recoveryMs;
    expect(o.judge([REF], edge - 100, edge, pinned(D1)).verdict).toBe('admitted');
    expect(o.judge([REF], edge + 100, edge + 200, pinned(D1)).verdict).toBe('wrong-admission');
    expect(o.judge([REF], edge + 100, edge + 200, pinned(D2)).verdict).toBe('admitted');
    expect(o.judge([REF], edge + 100, edge + 200, { ...pinned(D1), stale: true }).verdict).toBe('admitted');
    expect(o.judge([REF], edge + 100, edge + 200, { ...pinned(D3), stale: true }).verdict).toBe('wrong-admission');
  });

  it('with notary-server down, only what the cluster admitted before', () => {
    const o = oracle();
    o.signed('r.example/team/web:1.0', D2, -100_000, -99_000);
    o.signed('r.example/team/web:2.0', D2, -100_000, -99_000);
    expect(o.judge([REF], 2_000, 2_100, pinned(D1)).verdict).toBe('admitted');
    o.faultStarted('notary-down', 9_000);
    // Between the kill and the exit: what was admitted may have been verified just in time.
    expect(o.judge(['r.example/team/web:1.0'], 9_100, 9_200, pinned(D2, 'r.example/team/web:1.0')).verdict).toBe('admitted');
    o.partDown('notary-down', 10_000);
    expect(o.judge([REF], 11_000, 11_100, { ...pinned(D1), stale: true }).verdict).toBe('admitted');
    expect(o.judge(['r.example/team/web:2.0'], 11_000, 11_100, pinned(D2, 'r.example/team/web:2.0'))).toMatchObject({ verdict: 'wrong-admission', why: expect.stringMatching(/never verified before/) });
    o.faultEnded('notary-down', 15_000);
    expect(o.judge(['r.example/team/web:2.0'], 15_500, 15_600, pinned(D2, 'r.example/team/web:2.0')).verdict).toBe('admitted');
  });

  it('a deny policy: admissions wrong once it has had time to reach the replicas, and until it is lifted', () => {
    const o = new Oracle(T);
    const frozen = 'r.example/frozen/app:1.0';
    o.signed(frozen, D1, 0, 1_000);
    o.denyPolicy('r.example/frozen/', 10_000);
    expect(o.judge([frozen], 12_000, 12_100, pinned(D1, frozen)).verdict).toBe('admitted');
    expect(o.judge([frozen], 20_500, 20_600, pinned(D1, frozen))).toMatchObject({ verdict: 'wrong-admission', why: expect.stringMatching(/deny policy/) });
    o.liftDenyPolicy('r.example/frozen/', 40_000);
    expect(o.judge([frozen], 39_000, 40_100, pinned(D1, frozen)).verdict).toBe('admitted');
    expect(o.judge([frozen], 45_000, 45_100, denied('POLICY_DENIED'))).toMatchObject({ verdict: 'explained-denial', why: 'policy changing' });
    expect(o.judge([frozen], 55_000, 55_100, denied('POLICY_DENIED')).verdict).toBe('unexplained-denial');
  });

  it('a workload is refused as a whole when one of its images must be', () => {
    const o = oracle();
    expect(o.judge([REF, 'r.example/team/api:edge'], 2_000, 2_100, denied()).verdict).toBe('refused');
    expect(o.judge([REF, 'r.example/team/api:edge'], 2_000, 2_100, { result: 'admitted' }).verdict).toBe('wrong-admission');
  });
});

describe('denials of what should pass', () => {
  it('explained by an outage, the API server restarting, or a killed replica failing the call; otherwise not', () => {
    const o = oracle();
    expect(o.judge([REF], 2_000, 2_100, denied('UNREACHABLE')).verdict).toBe('unexplained-denial');
    o.faultStarted('notary-down', 10_000);
    // Answered between the kill and the exit: the connection was reset, the fault explains it.
    expect(o.judge([REF], 9_900, 10_050, denied('UNREACHABLE: ECONNRESET'))).toMatchObject({ verdict: 'explained-denial', why: 'notary-down' });
    o.partDown('notary-down', 10_100);
    o.faultEnded('notary-down', 14_000);
    expect(o.judge([REF], 13_000, 13_100, denied('UNREACHABLE'))).toMatchObject({ verdict: 'explained-denial', why: 'notary-down', phase: 'notary-down' });
    expect(o.judge([REF], 14_000 + T.recoveryMs + 1, 14_000 + T.recoveryMs + 100, denied('UNREACHABLE'))).toMatchObject({ verdict: 'unexplained-denial', phase: 'normal' });
    o.faultStarted('replica-killed', 30_000);
    o.faultEnded('replica-killed', 33_000);
    expect(o.judge([REF], 31_000, 31_100, { result: 'denied', by: 'webhook-failure', message: 'failed calling webhook' }).verdict).toBe('explained-denial');
    expect(o.judge([REF], 31_000, 31_100, denied('TIMEOUT')).verdict).toBe('unexplained-denial');
    o.faultStarted('cert-rotated', 50_000);
    o.faultEnded('cert-rotated', 50_100);
    expect(o.judge([REF], 50_200, 50_300, { result: 'denied', by: 'webhook-failure', message: 'x509' })).toMatchObject({ verdict: 'unexplained-denial', phase: 'cert-rotated' });
  });

  it('a first signing: refused before, either while it is being published, admitted at once after; a re-signing the replicas disagree on', () => {
    const o = new Oracle(T);
    const ref = 'r.example/team/web:new-1';
    expect(o.judge([ref], 0, 100, denied()).verdict).toBe('refused');
    expect(o.judge([ref], 0, 100, pinned(D1, ref)).verdict).toBe('wrong-admission');
    o.signed(ref, D1, 1_000, 2_000);
    expect(o.judge([ref], 1_500, 2_100, denied())).toMatchObject({ verdict: 'explained-denial', why: 'being signed' });
    expect(o.judge([ref], 1_500, 2_100, pinned(D1, ref)).verdict).toBe('admitted');
    expect(o.judge([ref], 2_100, 2_200, denied()).verdict).toBe('unexplained-denial');
    o.signed(ref, D2, 40_000, 41_000);
    expect(o.judge([ref], 42_000, 42_100, denied(`DIGEST_NOT_SIGNED: tag "new-1" is signed for ${D2}`))).toMatchObject({ verdict: 'explained-denial', why: 're-signed tag, caches disagree' });
    expect(o.judge([ref], 42_000, 42_100, denied('TAG_NOT_SIGNED')).verdict).toBe('unexplained-denial');
  });

  it('requests the API server could not take are no reviews', () => {
    expect(oracle().judge([REF], 0, 1, { result: 'unavailable', message: 'ECONNREFUSED' }).verdict).toBe('unavailable');
  });
});

describe('the schedule', () => {
  it('is the same for the same seed, has every fault kind in a minute, and ends inside the run', () => {
    const a = makeSchedule(1, 7);
    expect(makeSchedule(1, 7)).toEqual(a);
    expect(makeSchedule(1, 8)).not.toEqual(a);
    expect(new Set(a.events.filter((e) => e.type === 'fault').map((e) => e.type === 'fault' && e.kind))).toEqual(new Set(FAULT_KINDS));
    for (const e of a.events) expect(e.at + (e.type === 'fault' ? e.durationMs : 0)).toBeLessThan(a.totalMs);
    expect(makeSchedule(10, 1).events.filter((e) => e.type === 'fault')).toHaveLength(30);
  });

  it('refuses lengths and seeds out of range with a clear error', () => {
    for (const minutes of [0, -1, Number.NaN, Infinity, 121]) expect(() => makeSchedule(minutes, 1)).toThrow(/minutes must be a number from 0.25 to 120/);
    for (const seed of [-1, 1.5, 2 ** 32, Number.NaN]) expect(() => makeSchedule(1, seed)).toThrow(/seed must be an integer/);
  });
});

describe('reading the API server', () => {
  it('tells admissions (with the stale warning), trustgate denials, failed webhook calls and no review apart', () => {
    const pod = JSON.stringify({ spec: { containers: [{ image: `${REF}@${D1}` }] } });
    expect(outcomeOf(201, pod, '299 - "trustgate: image admitted on its last verified answer: …"', 'Pod')).toEqual({ result: 'admitted', images: [`${REF}@${D1}`], stale: true });
    expect(outcomeOf(201, '{}', undefined, 'Deployment')).toEqual({ result: 'admitted', stale: false });
    expect(outcomeOf(201, 'not json', undefined, 'Pod')).toEqual({ result: 'admitted', images: [] });
    expect(outcomeOf(403, JSON.stringify({ message: 'admission webhook "validate.trustgate.dev" denied the request: TAG_NOT_SIGNED' }), undefined, 'Pod')).toMatchObject({ result: 'denied', by: 'trustgate' });
    expect(outcomeOf(500, JSON.stringify({ message: 'Internal error occurred: failed calling webhook "mutate.trustgate.dev": EOF' }), undefined, 'Pod')).toMatchObject({ result: 'denied', by: 'webhook-failure' });
    expect(outcomeOf(503, JSON.stringify({ message: 'the server is currently unable to handle the request' }), undefined, 'Pod')).toMatchObject({ result: 'unavailable' });
  });
});
