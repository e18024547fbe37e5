// Kubernetes Events for denials and audit findings (reason ImageNotTrusted) and for pinned
// images (ImagePinned). Queued and sent in the background: writing an Event never delays or
// fails an admission; when the queue is full, events are dropped and counted.
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

export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly queue: AdmissionEvent[] = [];
  private sending = false;
  dropped = 0;

  constructor(kubeConfig: KubeConfig, private readonly logger: Logger, private readonly maxQueue = 1000) {
    this.api = kubeConfig.makeApiClient(CoreV1Api);
  }

  record(event: AdmissionEvent): void {
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
    if (!this.sending) setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    this.sending = true;
    for (let event = this.queue.shift(); event; event = this.queue.shift()) {
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
