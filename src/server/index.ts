export { createRequestListener, metricsHandler, type AppDeps, type RequestListener } from './app.js';
export { listenHttps, listenHttp, type Listener } from './serve.js';
export { readTls, TlsReloader, type TlsMaterial } from './tls.js';
