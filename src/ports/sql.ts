/**
 * The part of node-postgres' client that a statement needs: what the state store runs a load's
 * commit on when a destination hands it its open transaction.
 */
export interface SqlConnection {
  query(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: unknown[]; rowCount: number | null; command?: string }>;
}

/**
 * The part of node-postgres' pool that the state store (through kysely) and a PostgreSQL
 * destination use: a `pg.Pool`, or a pool over the embedded PGlite database (`demo`).
 */
export interface SqlClient extends SqlConnection {
  release(destroy?: boolean): void;
}

/** A pool of {@link SqlClient}s; `end` closes it (kysely calls it when the state store closes). */
export interface SqlPool {
  connect(): Promise<SqlClient>;
  end(): Promise<void>;
}
