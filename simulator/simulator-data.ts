import { DateTime } from 'luxon';
import { findStreamSchema } from '../schemas/index.js';

/**
 * Deterministic seeded data for the simulator (docs/contract.md, "The simulator"). Every stream has one event in
 * each slot of `slotMs`, at a seeded offset inside it, so that any window's rows can be
 * generated independently and a test can compute exactly what a window must hold.
 *
 * `canonical` values are typed as the warehouse should hold them; `formatCell` writes them the
 * way this simulator's files do (display headers, several timestamp, number and boolean styles).
 */
export type CanonicalValue = Date | number | boolean | string | null;
export type CanonicalRow = Record<string, CanonicalValue>;

export interface DataOptions {
  /** One event per slot; default 20 minutes (72 rows a day per stream). */
  readonly slotMs?: number;
  readonly seed?: number;
}

const defaultSlotMs = 20 * 60_000;

function hash32(...parts: (string | number)[]): number {
  let h = 2166136261;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    h ^= 0x2c;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same data on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const agents = [
  ['1001', 'Ana García'],
  ['1002', 'Björn Müller'],
  ['1003', '山田 太郎'],
  ['1004', "Chloé O'Brien"],
  ['1005', 'Zoë "Z" Smith'],
  ['1006', 'Олег Петров'],
] as const;
const teams = ['Support', 'Billing', 'Tier 2, Escalations', 'Sales'] as const;
const skills = ['Technical Support', 'Billing Inquiry', 'Retention', 'Onboarding'] as const;
const channels = ['Voice', 'Chat', 'Email', 'SMS'] as const;
const profiles = ['profile-abc123', 'profile-def456', 'profile-ghi789'] as const;
const categories = ['Billing', 'Password reset', 'Shipping', 'Returns & refunds'] as const;
const statuses = ['Used', 'Modified', 'Ignored', 'No Response'] as const;
const articles = [
  'How to reset a password',
  'Refunds, returns and exchanges',
  'Shipping "express" vs. standard',
  'Billing FAQ\nSection 2: late fees',
  'Café menu — allergens 🍰',
  'Line one\r\nline two, with comma',
] as const;
const questions = [
  "How do I reset the customer's password?",
  'What is the refund policy, exactly?',
  'Customer says "it\'s broken" — next step?',
  'Multi-line question:\nfirst line\nsecond line',
  '¿Dónde está mi pedido? 📦',
  '注文をキャンセルするには？',
  'Comma, "quote", and\r\nCRLF inside',
] as const;
const answers = [
  'Open Settings > Security, then click "Reset".',
  'Refunds within 30 days, minus shipping.',
  'Escalate to Tier 2, then log the case.',
  'Step 1: verify identity\nStep 2: reset\nStep 3: confirm',
  'Su pedido llegará mañana. ✅',
  '',
] as const;

/**
 * The leading columns that Copilot's KB and AS tables share. It draws from `r` in column order,
 * so a caller must draw anything it needs before the interaction first, as the KB row does.
 */
function copilotInteraction(
  time: Date,
  contactId: string,
  agentNumber: string,
  agentName: string,
  r: () => number,
): CanonicalRow {
  return {
    interaction_time: time,
    contact_id: contactId,
    agent_number: agentNumber,
    agent_name: agentName,
    team: pick(r, teams),
    skill: pick(r, skills),
    channel: pick(r, channels),
    copilot_profile_id: pick(r, profiles),
  };
}

function baseRow(stream: string, time: Date, r: () => number, k: number): CanonicalRow {
  const [agentNumber, agentName] = pick(r, agents);
  const contactId = String(600000000000 + k * 7 + Math.floor(r() * 7));
  switch (stream) {
    case 'copilot_kb': {
      const shown = 1 + Math.floor(r() * 5);
      return {
        ...copilotInteraction(time, contactId, agentNumber, agentName, r),
        suggestion_id: `sug-${hash32(stream, k).toString(16)}`,
        knowledge_article: pick(r, articles),
        category: pick(r, categories),
        response_status: pick(r, statuses),
        suggestions_shown: shown,
        suggestions_used: Math.floor(r() * (shown + 1)),
        feedback_rating: r() < 0.3 ? null : 1 + Math.floor(r() * 5),
        latency_ms: Math.round(r() * 250_000) / 100,
      };
    }
    case 'copilot_as':
      return {
        ...copilotInteraction(time, contactId, agentNumber, agentName, r),
        summary_generated: r() < 0.9,
        summary_edited: r() < 0.4,
        edit_percentage: Math.round(r() * 1000) / 10,
        summary_length: 50 + Math.floor(r() * 2000),
        generation_time_ms: Math.round(r() * 5_000_000) / 1000,
        disposition: pick(r, ['Resolved', 'Follow-up', 'Escalated', 'Callback, scheduled']),
      };
    case 'copilot_aq':
      return {
        question_time: time,
        contact_id: contactId,
        agent_number: agentNumber,
        agent_name: agentName,
        copilot_profile_id: pick(r, profiles),
        question: pick(r, questions),
        answer: pick(r, answers) || null,
        answer_source: pick(r, ['KB', 'Web', 'Policy, v2']),
        feedback: pick(r, ['Positive', 'Negative', null]),
        response_time_ms: Math.round(r() * 900_000) / 100,
        answered: r() < 0.85,
      };
    case 'autopilot_gr':
      return {
        conversation_time: time,
        conversation_id: `conv-${hash32(stream, k, 'c').toString(36)}`,
        channel: pick(r, channels),
        question: pick(r, questions),
        generated_response: pick(r, answers) || null,
        response_status: pick(r, statuses),
        knowledge_sources: pick(r, [
          'kb://billing/12',
          'kb://faq/3; kb://faq/9',
          'https://help.example.com/a?b=1,2',
        ]),
        category: pick(r, categories),
        confidence_score: Math.round(r() * 10_000) / 10_000,
        customer_feedback: pick(r, ['Helpful', 'Not helpful', null, 'Said "thanks!"']),
        escalated: r() < 0.2,
      };
    default:
      throw new Error(`simulator has no data for stream ${stream}`);
  }
}

/** Event time of slot k: whole seconds, except GR which carries milliseconds. */
function eventTime(stream: string, k: number, slotMs: number, seed: number): Date {
  const r = rng(hash32(seed, stream, k, 't'));
  const offset = Math.floor(r() * slotMs);
  const ms = k * slotMs + offset;
  return new Date(stream === 'autopilot_gr' ? ms : ms - (ms % 1000));
}

/** All rows of a stream whose event time lies in [start, endInclusive], in time order. */
export function* generateRows(
  stream: string,
  start: Date,
  endInclusive: Date,
  options: DataOptions = {},
): Generator<CanonicalRow> {
  const slotMs = options.slotMs ?? defaultSlotMs;
  const seed = options.seed ?? 42;
  const first = Math.floor(start.getTime() / slotMs);
  const last = Math.floor(endInclusive.getTime() / slotMs);
  for (let k = first; k <= last; k++) {
    const t = eventTime(stream, k, slotMs, seed);
    if (t < start || t > endInclusive) continue;
    yield baseRow(stream, t, rng(hash32(seed, stream, k)), k);
  }
}

function formatTime(stream: string, t: Date, zone: string): string {
  const dt = DateTime.fromJSDate(t, { zone });
  switch (stream) {
    case 'copilot_kb':
      return dt.toFormat('yyyy-MM-dd HH:mm:ss');
    case 'copilot_as':
      return dt.toFormat('MM/dd/yyyy hh:mm:ss a');
    case 'copilot_aq':
      return dt.toISO({ suppressMilliseconds: true }) ?? '';
    default:
      return t.toISOString();
  }
}

const boolStyles = [
  ['Yes', 'No'],
  ['TRUE', 'false'],
  ['Y', 'N'],
  ['1', '0'],
] as const;

/** Writes one canonical value as this simulator's CSV files do. */
export function formatCell(
  stream: string,
  column: string,
  value: CanonicalValue,
  zone: string,
  k = 0,
): string {
  if (value === null) return '';
  if (value instanceof Date) return formatTime(stream, value, zone);
  if (typeof value === 'boolean') {
    const [t, f] = boolStyles[k % boolStyles.length]!;
    return value ? t : f;
  }
  if (typeof value === 'number') {
    if (column === 'edit_percentage') return `${value}%`;
    if (Math.abs(value) >= 1000 && k % 2 === 0) {
      return value.toLocaleString('en-US', { maximumFractionDigits: 10 });
    }
    return String(value);
  }
  return value;
}

/** A cell as the simulator writes it, the way the dashboard does: quoted when it holds a comma, quote or line end, or edge whitespace. */
export function csvCell(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The display headers of a stream, as the dashboard names them. */
export function displayHeaders(stream: string): { column: string; header: string }[] {
  const schema = findStreamSchema(stream);
  if (!schema) throw new Error(`unknown stream ${stream}`);
  return schema.columns.map((c) => ({ column: c.name, header: c.headers[0] ?? c.name }));
}
