export { createRequestListener, metricsHandler, REVIEW_JSON_LIMITS, type AppDeps, type RequestListener } from './app.js';
export { RequestLimitCode } from './body.js';
export { listenHttps, listenHttp, type Listener } from './serve.js';
export { readTls, TlsReloader, type TlsFiles, type TlsMaterial } from './tls.js';
export { clientCertificateCheck, ClientAuthCode, type ClientCheck, type ClientRefusal } from './client-auth.js';
