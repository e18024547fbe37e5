export { parseServeConfig, ConfigError, CONFIG_KEYS, type ServeConfig } from './serve-config.js';
