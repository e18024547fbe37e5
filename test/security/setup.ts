import { jest } from '@jest/globals';

// Some security cases run on the real control plane (test/support/control-plane.ts) or flood a
// server with a bounded number of requests; none of them times itself (speed lives in bench/).
jest.setTimeout(900_000);
