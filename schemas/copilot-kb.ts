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

/** Copilot knowledge-base suggestions (Observability Dashboard, Copilot/KBTable). */
export const copilotKb: StreamSchema = {
  name: 'copilot_kb',
  description: 'Copilot generated knowledge-base suggestions, one row per suggestion shown to an agent.',
  apiPaths: ['Copilot/KBTable'],
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
    copilotProfileId('produced the suggestion'),
    { name: 'suggestion_id', type: 'text', headers: ['Suggestion ID'], description: 'Suggestion id.' },
    {
      name: 'knowledge_article',
      type: 'text',
      headers: ['Knowledge Article', 'Article'],
      description: 'Knowledge article suggested (free text).',
    },
    { name: 'category', type: 'text', headers: ['Category'], description: 'Knowledge category.' },
    {
      name: 'response_status',
      type: 'text',
      headers: ['Response Status', 'Status'],
      description: 'Used, Modified, Ignored or No Response.',
    },
    {
      name: 'suggestions_shown',
      type: 'integer',
      headers: ['Suggestions Shown'],
      description: 'Number of suggestions shown.',
    },
    {
      name: 'suggestions_used',
      type: 'integer',
      headers: ['Suggestions Used'],
      description: 'Number of suggestions used.',
    },
    {
      name: 'feedback_rating',
      type: 'integer',
      headers: ['Feedback Rating', 'Rating'],
      description: 'Agent feedback rating; NULL when not given.',
    },
    {
      name: 'latency_ms',
      type: 'number',
      headers: ['Latency (ms)', 'Latency'],
      description: 'Suggestion latency in milliseconds.',
    },
  ],
};
