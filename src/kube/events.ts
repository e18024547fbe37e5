// Kubernetes Events for denials and audit findings (reason ImageNotTrusted) and for pinned
// images (ImagePinned). Queued and sent in the background, and rate-limited: writing Events
// must never delay or fail admissions, and each one is an API request that costs trustgate
// more CPU than the review it reports (a 500-pod scale-up would otherwise send 500 of them
// while the reviews wait). Beyond the budget, or when the queue is full, events are dropped and
// counted (trustgate_events_dropped_total). An Event goes only into a namespace the webhooks
// review (reviewed-namespaces.ts), checked here in the background, within the same budget.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface AdmissionEvent {
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string | undefined;
  readonly apiVersion: string;
  readonly reason: 'ImageNotTrusted' | 'ImagePinned';
  readonly type: 'Warning' | 'Normal';
  readonly message: string;
}

/**
 * A token bucket: `burst` events at once, refilled at `perSecond`. Denials and audit findings
 * (Warning) get a larger budget than pins (Normal), so a flood of pins cannot crowd them out.
 */
export class EventBudget {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly queue: AdmissionEvent[] = [];
  private readonly budgets = { Warning: new EventBudget(5, 20), Normal: new EventBudget(1, 5) };
  private sending = false;
  /** Events not written: over budget, queue full, or a namespace not reviewed. */
  dropped = 0;

  /**
   * @param reviewed whether the webhooks review a namespace; an Event for one they do not
   *   review (a forged AdmissionReview) is dropped.
   */
  constructor(
    kubeConfig: KubeConfig,
    private readonly logger: Logger,
    private readonly reviewed: (namespace: string) => Promise<boolean>,
    private readonly maxQueue = 1000,
  ) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Queues the event `make` builds, if the budget for its type and the queue have room. */
  record(type: AdmissionEvent['type'], make: () => AdmissionEvent): void {
    if (this.queue.length >= this.maxQueue || !this.budgets[type].take()) {
      this.dropped++;
      return;
    }
    this.queue.push(make());
    if (!this.sending) setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.sending = true;
    for (let event = this.queue.shift(); event; event = this.queue.shift()) {
      if (!(await this.reviewed(event.namespace))) {
        this.dropped++;
        this.logger.warn({ reason: event.reason, namespace: event.namespace.slice(0, 63) }, 'no event written: the webhooks do not review this namespace (a forged review, or its labels just changed)');
        continue;
      }
      const now = new Date();
      try {
        await this.api.createNamespacedEvent({
          namespace: event.namespace,
          body: {
            metadata: { generateName: `${event.name || event.kind.toLowerCase()}.trustgate-`, namespace: event.namespace },
            involvedObject: { kind: event.kind, name: event.name, namespace: event.namespace, apiVersion: event.apiVersion, ...(event.uid && { uid: event.uid }) },
            reason: event.reason,
            type: event.type,
            message: event.message.slice(0, 1024),
            source: { component: 'trustgate' },
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
            reportingComponent: 'trustgate.dev/webhook',
            reportingInstance: 'trustgate',
          },
        });
      } catch (error) {
        this.logger.warn({ reason: event.reason, err: error instanceof Error ? error.message : String(error) }, 'could not write event');
      }
    }
    this.sending = false;
  }
}
