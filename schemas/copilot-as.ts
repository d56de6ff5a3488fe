import type { StreamSchema } from '../src/engine/stream-schema.js';

/** Copilot AutoSummary (Observability Dashboard, Copilot/ASTable). */
export const copilotAs: StreamSchema = {
  name: 'copilot_as',
  description: 'Copilot AutoSummary, one row per interaction summarised.',
  apiPaths: ['Copilot/ASTable'],
  accepts: { channels: true, filters: ['Team', 'Skill', 'CopilotProfileId', 'AgentNumber'] },
  eventTime: 'interaction_time',
  clusterBy: ['team', 'skill', 'agent_number'],
  columns: [
    {
      name: 'interaction_time',
      type: 'timestamp',
      headers: ['Interaction Time', 'Timestamp', 'Date'],
      nullable: false,
      description: 'When the interaction took place (event time, UTC).',
    },
    { name: 'contact_id', type: 'text', headers: ['Contact ID'], description: 'CXone contact id.' },
    {
      name: 'agent_number',
      type: 'text',
      headers: ['Agent Number', 'Agent ID'],
      description: 'Agent number (id) in CXone.',
    },
    {
      name: 'agent_name',
      type: 'text',
      headers: ['Agent Name', 'Agent'],
      description: 'Agent display name.',
    },
    { name: 'team', type: 'text', headers: ['Team', 'Team Name'], description: 'Agent team.' },
    {
      name: 'skill',
      type: 'text',
      headers: ['Skill', 'Skill Name'],
      description: 'ACD skill of the contact.',
    },
    { name: 'channel', type: 'text', headers: ['Channel'], description: 'Voice or digital channel.' },
    {
      name: 'copilot_profile_id',
      type: 'text',
      headers: ['Copilot Profile ID', 'Profile ID'],
      description: 'Copilot profile that produced the summary.',
    },
    {
      name: 'summary_generated',
      type: 'boolean',
      headers: ['Summary Generated'],
      description: 'Whether a summary was generated.',
    },
    {
      name: 'summary_edited',
      type: 'boolean',
      headers: ['Summary Edited'],
      description: 'Whether the agent edited the summary.',
    },
    {
      name: 'edit_percentage',
      type: 'number',
      headers: ['Edit Percentage', 'Edit %'],
      description: 'Share of the summary the agent edited, in percent (12.5 means 12.5%).',
    },
    {
      name: 'summary_length',
      type: 'integer',
      headers: ['Summary Length'],
      description: 'Summary length in characters.',
    },
    {
      name: 'generation_time_ms',
      type: 'number',
      headers: ['Generation Time (ms)', 'Generation Time'],
      description: 'Time to generate the summary, in milliseconds.',
    },
    { name: 'disposition', type: 'text', headers: ['Disposition'], description: 'Contact disposition.' },
  ],
};
