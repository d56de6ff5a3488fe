/** A half-open UTC window [start, end). */
export interface Window {
  readonly start: Date;
  readonly end: Date;
}
