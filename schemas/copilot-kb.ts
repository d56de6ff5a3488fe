import type { StreamSchema } from '../src/engine/stream-schema.js';

/** Copilot knowledge-base suggestions (Observability Dashboard, Copilot/KBTable). */
export const copilotKb: StreamSchema = {
  name: 'copilot_kb',
  description: 'Copilot generated knowledge-base suggestions, one row per suggestion shown to an agent.',
  apiPaths: ['Copilot/KBTable'],
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
      description: 'Copilot profile that produced the suggestion.',
    },
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
