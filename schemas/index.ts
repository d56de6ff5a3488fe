import type { StreamSchema } from '../src/model/stream-schema.js';
import { autopilotGr } from './autopilot-gr.js';
import { copilotAq } from './copilot-aq.js';
import { copilotAs } from './copilot-as.js';
import { copilotKb } from './copilot-kb.js';

/** The registry of streams. A new stream is a new schema file and one line here. */
export const streamSchemas: readonly StreamSchema[] = [copilotKb, copilotAs, copilotAq, autopilotGr];

export function findStreamSchema(name: string): StreamSchema | undefined {
  return streamSchemas.find((s) => s.name === name);
}
