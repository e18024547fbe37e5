export { parseServeConfig, ConfigError, CONFIG_KEYS, type AuditConfig, type NamespaceScope, type ServeConfig } from './serve-config.js';
