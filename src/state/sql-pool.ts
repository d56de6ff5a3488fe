/**
 * The part of node-postgres' pool that the state store (through kysely) and a PostgreSQL
 * destination use: a `pg.Pool`, or a pool over the embedded PGlite database (`demo`).
 */
export interface SqlClient {
  query(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: unknown[]; rowCount: number | null; command?: string }>;
  release(destroy?: boolean): void;
}

export interface SqlPool {
  connect(): Promise<SqlClient>;
  end(): Promise<void>;
}
