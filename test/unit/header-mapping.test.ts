import { describe, expect, it } from 'vitest';
import { copilotKb } from '../../schemas/copilot-kb.js';
import { SchemaError } from '../../src/errors.js';
import { columnNameForHeader, mapHeaders, normalizeHeader } from '../../src/parse/header-mapping.js';

const kbHeaders = copilotKb.columns.map((c) => c.headers[0]!);

describe('header mapping', () => {
  it('normalises case, spaces, underscores, punctuation and bracketed units', () => {
    expect(normalizeHeader('Latency (ms)')).toBe('latency');
    expect(normalizeHeader('latency_ms')).toBe('latencyms');
    expect(normalizeHeader(' CONTACT-ID ')).toBe('contactid');
    expect(normalizeHeader('Edit %')).toBe('edit');
  });

  it('maps by name, not position, and accepts warehouse names and aliases', () => {
    const shuffled = [
      'latency_ms',
      'INTERACTION TIME',
      'Agent ID',
      ...kbHeaders.slice(1, 15).filter((h) => h !== 'Agent Number'),
    ];
    const layout = mapHeaders(copilotKb, shuffled, 'fail');
    expect(layout.fields.map((f) => f?.name)).toEqual([
      'latency_ms',
      'interaction_time',
      'agent_number',
      ...copilotKb.columns
        .slice(1, 15)
        .filter((c) => c.name !== 'agent_number')
        .map((c) => c.name),
    ]);
    expect(layout.missing).toEqual([]);
  });

  it('fails naming the headers found when the event-time column is missing', () => {
    expect(() => mapHeaders(copilotKb, ['Contact ID', 'Team'], 'evolve')).toThrow(
      /no event-time column interaction_time; headers found: "Contact ID", "Team"/,
    );
  });

  it('detects two headers that normalise to one column', () => {
    expect(() => mapHeaders(copilotKb, [...kbHeaders, 'contact_id'], 'evolve')).toThrow(SchemaError);
  });

  it('applies the drift policy to unknown headers', () => {
    const headers = [...kbHeaders, 'Sentiment Score'];
    const evolve = mapHeaders(copilotKb, headers, 'evolve');
    expect(evolve.added.map((c) => [c.name, c.type])).toEqual([['sentiment_score', 'text']]);
    const ignore = mapHeaders(copilotKb, headers, 'ignore');
    expect(ignore.ignored).toEqual(['Sentiment Score']);
    expect(ignore.fields.at(-1)).toBeNull();
    expect(() => mapHeaders(copilotKb, headers, 'fail')).toThrow(/unknown headers "Sentiment Score"/);
  });

  it('ignores nameless columns (a trailing delimiter) under every drift policy', () => {
    const layout = mapHeaders(copilotKb, [...kbHeaders, '', ' '], 'fail');
    expect(layout.fields.slice(-2)).toEqual([null, null]);
    expect(layout.added).toEqual([]);
  });

  it('makes safe column names of odd headers', () => {
    expect(columnNameForHeader('Résumé "Score" (%)')).toBe('resume_score');
    expect(columnNameForHeader('1st Reply')).toBe('c_1st_reply');
    expect(columnNameForHeader('x'.repeat(100)).length).toBe(63);
  });
});
