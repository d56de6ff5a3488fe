import type { StreamSchema } from '../src/model/stream-schema.js';
import { agentName, agentNumber, contactId, copilotProfileId } from './common-columns.js';

/** Copilot agent Q&A (Observability Dashboard, Copilot/AQTable). */
export const copilotAq: StreamSchema = {
  name: 'copilot_aq',
  description: 'Questions agents asked Copilot and the answers they got.',
  apiPaths: ['Copilot/AQTable'],
  accepts: { channels: false, filters: ['CopilotProfileId', 'AgentNumber'] },
  eventTime: 'question_time',
  clusterBy: ['agent_number', 'copilot_profile_id'],
  columns: [
    {
      name: 'question_time',
      type: 'timestamp',
      headers: ['Question Time', 'Timestamp', 'Date'],
      nullable: false,
      description: 'When the question was asked (event time, UTC).',
    },
    contactId,
    agentNumber,
    agentName,
    copilotProfileId('answered'),
    {
      name: 'question',
      type: 'text',
      headers: ['Question'],
      description: 'The question as asked (free text).',
    },
    { name: 'answer', type: 'text', headers: ['Answer'], description: 'The answer given (free text).' },
    {
      name: 'answer_source',
      type: 'text',
      headers: ['Answer Source', 'Source'],
      description: 'Knowledge source of the answer.',
    },
    { name: 'feedback', type: 'text', headers: ['Feedback'], description: 'Positive, Negative or NULL.' },
    {
      name: 'response_time_ms',
      type: 'number',
      headers: ['Response Time (ms)', 'Response Time'],
      description: 'Time to answer, in milliseconds.',
    },
    {
      name: 'answered',
      type: 'boolean',
      headers: ['Answered'],
      description: 'Whether Copilot produced an answer.',
    },
  ],
};
