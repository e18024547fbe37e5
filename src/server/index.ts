export { createRequestListener, metricsHandler, type AppDeps, type RequestListener } from './app.js';
export { listenHttps, listenHttp, type Listener } from './serve.js';
export { readTls, TlsReloader, type TlsFiles, type TlsMaterial } from './tls.js';
export { clientCertificateCheck, ClientAuthCode, type ClientCheck, type ClientRefusal } from './client-auth.js';
