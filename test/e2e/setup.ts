import { jest } from '@jest/globals';

// The e2e suite starts etcd, kube-apiserver, kube-controller-manager, notary-server,
// docker-registry and trustgate; the first run on a machine also builds the control plane.
jest.setTimeout(900_000);
