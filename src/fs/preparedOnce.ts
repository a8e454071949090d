import type BetterSqlite3 from 'better-sqlite3';

/**
 * A connection's statements, each prepared once: better-sqlite3 compiles the SQL at every
 * `prepare()`, and a store runs the same few statements for its whole life (the run index
 * prepared its look-up at every status read: 18 ms over 300 reads in a host profile).
 * Only for statements run with get/all/run, which leave them free again at once.
 */
export function preparedOnce(db: BetterSqlite3.Database): (sql: string) => BetterSqlite3.Statement {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return (sql) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
}
