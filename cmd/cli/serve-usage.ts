// `trustgate serve`'s help, apart from the command so that the other commands and `--help` do
// not load the webhook's dependencies (express, pino, prom-client, @kubernetes/client-node).
export const SERVE_USAGE = `Usage: trustgate serve --config FILE

Runs the admission webhook: POST /mutate and /validate (AdmissionReview v1) over HTTPS, plus
/healthz, /readyz and /metrics. The configuration is documented in docs/configuration.md.
Stops gracefully on SIGTERM or SIGINT, finishing the reviews in flight.`;
