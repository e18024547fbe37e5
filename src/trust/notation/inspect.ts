// TEMP stand-in (engineer verify writes the real file): only the exports the CLI compiles against.
import type { ImageReference } from '../../reference/index.js';
import type { RegistryClient, RegistryConnection } from '../../registry/oci/types.js';

export interface NotationReport {
  readonly image: string;
  readonly digest: string;
  readonly signatures: readonly unknown[];
}

export function inspectNotation(client: RegistryClient, conn: RegistryConnection, ref: ImageReference): Promise<NotationReport> {
  void client;
  void conn;
  return Promise.resolve({ image: ref.name, digest: ref.digest ?? '', signatures: [] });
}

export function formatNotationReport(r: NotationReport): string {
  return `notation signatures of ${r.image}: ${r.signatures.length}`;
}
