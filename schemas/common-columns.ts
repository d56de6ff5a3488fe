import type { ColumnSpec } from '../src/model/stream-schema.js';

/** Columns several Copilot tables share: one definition, so that aliases and docs stay in step. */
export const contactId: ColumnSpec = {
  name: 'contact_id',
  type: 'text',
  headers: ['Contact ID'],
  description: 'CXone contact id.',
};
export const agentNumber: ColumnSpec = {
  name: 'agent_number',
  type: 'text',
  headers: ['Agent Number', 'Agent ID'],
  description: 'Agent number (id) in CXone.',
};
export const agentName: ColumnSpec = {
  name: 'agent_name',
  type: 'text',
  headers: ['Agent Name', 'Agent'],
  description: 'Agent display name.',
};
export const team: ColumnSpec = {
  name: 'team',
  type: 'text',
  headers: ['Team', 'Team Name'],
  description: 'Agent team.',
};
export const skill: ColumnSpec = {
  name: 'skill',
  type: 'text',
  headers: ['Skill', 'Skill Name'],
  description: 'ACD skill of the contact.',
};
export const channel: ColumnSpec = {
  name: 'channel',
  type: 'text',
  headers: ['Channel'],
  description: 'Voice or digital channel.',
};

/** The event time of the interaction-based Copilot tables. */
export const interactionTime: ColumnSpec = {
  name: 'interaction_time',
  type: 'timestamp',
  headers: ['Interaction Time', 'Timestamp', 'Date'],
  nullable: false,
  description: 'When the interaction took place (event time, UTC).',
};

export function copilotProfileId(what: string): ColumnSpec {
  return {
    name: 'copilot_profile_id',
    type: 'text',
    headers: ['Copilot Profile ID', 'Profile ID'],
    description: `Copilot profile that ${what}.`,
  };
}
