export { parseServeConfig, ConfigError, CONFIG_KEYS, type NamespaceScope, type ServeConfig } from './serve-config.js';
