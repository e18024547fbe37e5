// The only module that imports @kubernetes/client-node (docs/adr/0001).
import { KubeConfig } from '@kubernetes/client-node';

export { PolicyInformers, readPoliciesOnce, type PoliciesRead, type TrustStoreRefProblem } from './policy-informers.js';
export { MAX_PULL_SECRETS, PullSecretError, PullSecretReader, dockerAuths, type OwnedCredentials, type PodCredentialsQuery } from './pull-secrets.js';
export { EventBudget, EventRecorder, type AdmissionEvent } from './events.js';
export { KubeTrustRecords, kubeTrustRecords, fromObject as trustRecordFromObject, toObject as trustRecordToObject, TRUST_RECORD_PLURAL, type TrustRecordApi, type TrustRecordObject } from './trust-records.js';
export { ReviewedNamespaces, isReviewed, ENFORCE_LABEL } from './reviewed-namespaces.js';

/** From a kubeconfig file, or the pod's service account when none is given. */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromCluster();
  return kc;
}
export { KubeAudit, type KubeAuditOptions } from './audit.js';
