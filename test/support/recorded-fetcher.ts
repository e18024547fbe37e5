import { TrustError, type MetadataFetcher } from '../../src/trust/index.js';

/** Serves metadata from memory, honouring the byte limit the way the HTTP fetcher does. */
export class RecordedFetcher implements MetadataFetcher {
  readonly requests: string[] = [];

  constructor(private files: ReadonlyMap<string, Buffer>) {}

  /** Swap what is served, e.g. to replay older metadata to the same client. */
  serve(files: ReadonlyMap<string, Buffer>): void {
    this.files = files;
  }

  fetch(file: string, maxBytes: number): Promise<Buffer | undefined> {
    this.requests.push(file);
    const bytes = this.files.get(file);
    if (bytes && bytes.length > maxBytes) return Promise.reject(new TrustError('TOO_LARGE', `${file}.json is larger than the ${maxBytes} bytes allowed`));
    return Promise.resolve(bytes);
  }
}
