import type { StreamSchema } from '../src/model/stream-schema.js';

/** Autopilot Knowledge generative responses (AutopilotKnowledge/GRTable, alias autopilot/GRTable). */
export const autopilotGr: StreamSchema = {
  name: 'autopilot_gr',
  description: 'Autopilot generative responses to customers, one row per response.',
  apiPaths: ['AutopilotKnowledge/GRTable', 'autopilot/GRTable'],
  accepts: { channels: false, filters: [] },
  eventTime: 'conversation_time',
  clusterBy: ['channel', 'category'],
  columns: [
    {
      name: 'conversation_time',
      type: 'timestamp',
      headers: ['Conversation Time', 'Timestamp', 'Date'],
      nullable: false,
      description: 'When the conversation took place (event time, UTC).',
    },
    { name: 'conversation_id', type: 'text', headers: ['Conversation ID'], description: 'Conversation id.' },
    { name: 'channel', type: 'text', headers: ['Channel'], description: 'Channel of the conversation.' },
    { name: 'question', type: 'text', headers: ['Question'], description: 'Customer question (free text).' },
    {
      name: 'generated_response',
      type: 'text',
      headers: ['Generated Response', 'Response'],
      description: 'Response Autopilot generated (free text).',
    },
    {
      name: 'response_status',
      type: 'text',
      headers: ['Response Status', 'Status'],
      description: 'Used, modified, ignored or no response.',
    },
    {
      name: 'knowledge_sources',
      type: 'text',
      headers: ['Knowledge Sources', 'Sources'],
      description: 'Knowledge sources cited.',
    },
    { name: 'category', type: 'text', headers: ['Category'], description: 'Knowledge category.' },
    {
      name: 'confidence_score',
      type: 'number',
      headers: ['Confidence Score', 'Confidence'],
      description: 'Model confidence score.',
    },
    {
      name: 'customer_feedback',
      type: 'text',
      headers: ['Customer Feedback', 'Feedback'],
      description: 'Customer feedback on the response.',
    },
    {
      name: 'escalated',
      type: 'boolean',
      headers: ['Escalated'],
      description: 'Whether the conversation was escalated to an agent.',
    },
  ],
};
