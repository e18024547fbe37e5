export { AuditCode, findingsOf, MAX_RESULTS_PER_POD, STATUS_ORDER, type AuditStatus, type Finding, type PodRef } from './findings.js';
export { clusterReport, contentDigest, namespaceReports, resultKey, sameContent, summaryOf, timestampsOf, CLUSTER_REPORT_NAME, DEFAULT_REPORT_BOUNDS, REPORT_API_VERSION, REPORT_LABELS, REPORT_PREFIX, type PolicyReportObject, type ReportBounds, type ReportResult, type Summary } from './report.js';
export { runRound, DEFAULT_ROUND_BOUNDS, type AuditPod, type PodPage, type RoundBounds, type RoundIo, type RoundResult } from './round.js';
export { RoundVerifier, AUDIT_FAIR_SHARE_KEY } from './round-verifier.js';
export { TokenBucket, realClock, type Clock } from './rate.js';
export { LeaderElector, LeaseConflict, type LeaseApi, type LeaseRecord, type LeaseWrite, type LeaderTiming } from './leader.js';
export { AuditController, type AuditSchedule } from './controller.js';
