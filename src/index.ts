/**
 * The library API: what a program embedding the connector may import (the CLI is one such
 * program). Everything else is internal and may change without notice.
 */

export { streamSchemas } from '../schemas/index.js';
export {
  type AccountConfig,
  loadConfig,
  type ResolvedConfig,
  resolveConfig,
  type StreamConfig,
} from './config/load-config.js';
export {
  type Context,
  createDeployment,
  type Deployment,
  withDeployment,
} from './deployment/deployment.js';
export * from './errors.js';
export { createLogger, type Logger } from './log/logger.js';
export type { ColumnSpec, ColumnType, StreamSchema } from './model/stream-schema.js';
export type { Window } from './model/window.js';
export { type Clock, systemClock } from './ports/clock.js';
export type {
  Destination,
  DestinationCapabilities,
  DestinationFactory,
  LoadJob,
  LoadResult,
} from './ports/destination.js';
export type { ExportApi, VendorExportStatus } from './ports/export-api.js';
export { runSync, type SyncDeps, type SyncOptions } from './run/sync-runner.js';
export type { ExportSummary, StreamSummary, SyncSummary } from './run/sync-summary.js';
export { StateStore } from './state/state-store.js';
