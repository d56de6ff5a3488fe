import type { StreamSchema } from '../src/model/stream-schema.js';
import {
  agentName,
  agentNumber,
  channel,
  contactId,
  copilotProfileId,
  interactionTime,
  skill,
  team,
} from './common-columns.js';

/** Copilot AutoSummary (Observability Dashboard, Copilot/ASTable). */
export const copilotAs: StreamSchema = {
  name: 'copilot_as',
  description: 'Copilot AutoSummary, one row per interaction summarised.',
  apiPaths: ['Copilot/ASTable'],
  accepts: { channels: true, filters: ['Team', 'Skill', 'CopilotProfileId', 'AgentNumber'] },
  eventTime: 'interaction_time',
  clusterBy: ['team', 'skill', 'agent_number'],
  columns: [
    interactionTime,
    contactId,
    agentNumber,
    agentName,
    team,
    skill,
    channel,
    copilotProfileId('produced the summary'),
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
