import type { ColumnType } from '../model/stream-schema.js';
import { columnNameForHeader } from './header-mapping.js';
import { parseInteger, parseNumber, parseTimestamp } from './value-parsers.js';

const boolWords = /^(true|false|yes|no|y|n|t|f)$/i;

function fits(type: ColumnType, v: string): boolean {
  try {
    switch (type) {
      case 'boolean':
        return boolWords.test(v.trim());
      case 'integer':
        parseInteger(v);
        return true;
      case 'number':
        parseNumber(v);
        return true;
      case 'timestamp':
        parseTimestamp(v, 'UTC');
        return true;
      default:
        return true;
    }
  } catch {
    return false;
  }
}

export interface InferredColumn {
  readonly header: string;
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly samples: readonly string[];
}

/**
 * Proposes a type for each column from sample values: the narrowest of boolean, integer, number,
 * timestamp and text that every non-empty sample fits. `0`/`1` alone read as integers, since a
 * count is likelier than a flag written as digits.
 */
export class TypeInferrer {
  private readonly candidates: Set<ColumnType>[];
  private readonly empties: boolean[];
  private readonly samples: string[][];

  constructor(private readonly headers: readonly string[]) {
    this.candidates = headers.map(() => new Set<ColumnType>(['boolean', 'integer', 'number', 'timestamp']));
    this.empties = headers.map(() => false);
    this.samples = headers.map(() => []);
  }

  add(fields: readonly string[]): void {
    fields.forEach((v, i) => {
      if (i >= this.headers.length) return;
      if (v.trim() === '') {
        this.empties[i] = true;
        return;
      }
      const s = this.samples[i]!;
      if (s.length < 3 && !s.includes(v)) s.push(v);
      for (const t of this.candidates[i]!) if (!fits(t, v)) this.candidates[i]!.delete(t);
    });
  }

  result(): InferredColumn[] {
    return this.headers.map((header, i) => {
      const c = this.candidates[i]!;
      const seen = this.samples[i]!.length > 0;
      const type: ColumnType = !seen
        ? 'text'
        : ((['boolean', 'integer', 'number', 'timestamp'] as const).find((t) => c.has(t)) ?? 'text');
      return {
        header,
        name: columnNameForHeader(header),
        type,
        nullable: this.empties[i]! || !seen,
        samples: this.samples[i]!,
      };
    });
  }
}
