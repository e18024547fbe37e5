// What the API server answered to a dry-run create, as the oracle's Outcome: trustgate's
// admission (with the images as pinned, and whether its stale-answer warning came along), its
// denial, the API server's failure to call it (failurePolicy: Fail), or no review at all.
import type { Outcome } from './oracle.js';

/** The API server's answer to a dry-run create, as an outcome for the oracle. */
export function outcomeOf(status: number, body: string, warning: string | string[] | undefined, kind: 'Pod' | 'Deployment'): Outcome {
  const warnings = Array.isArray(warning) ? warning.join('\n') : (warning ?? '');
  let json: { message?: string; spec?: { containers?: { image?: string }[] } } = {};
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    // Admitted but unreadable: still an admission, with no pinned image to show for it (the
    // oracle then finds the pod's images missing); anything else is no review.
    if (status === 200 || status === 201) return kind === 'Pod' ? { result: 'admitted', images: [] } : { result: 'admitted' };
    return { result: 'unavailable', message: `HTTP ${status}: ${body.slice(0, 200)}` };
  }
  if (status === 200 || status === 201) {
    const stale = /admitted on its last verified answer/.test(warnings);
    return kind === 'Pod' ? { result: 'admitted', images: (json.spec?.containers ?? []).map((c) => c.image ?? ''), stale } : { result: 'admitted', stale };
  }
  const message = json.message ?? '';
  if (/admission webhook "(mutate|validate)\.trustgate\.dev" denied the request/.test(message)) return { result: 'denied', by: 'trustgate', message };
  if (/failed calling webhook "(mutate|validate)\.trustgate\.dev"/.test(message)) return { result: 'denied', by: 'webhook-failure', message };
  return { result: 'unavailable', message: `HTTP ${status}: ${message.slice(0, 200)}` };
}
