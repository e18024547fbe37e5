import { jest } from '@jest/globals';

// Integration tests start real notary-server and docker-registry processes and run the notary
// client, which has no read timeout of its own (the stalled-server case waits for ours).
jest.setTimeout(120_000);
