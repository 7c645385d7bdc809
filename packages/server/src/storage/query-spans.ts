import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { type SpanValue, traced, tracingActive } from '../telemetry/tracing.ts';

/** `db.system.name` of OpenTelemetry's database semantic conventions. */
export type DatabaseSystem = 'postgresql' | 'sqlite';

/** Longest `db.query.text` sent: enough to recognise any of our statements. */
const MAX_QUERY_TEXT = 2000;

/**
 * The span of one statement (OpenTelemetry database semantic conventions): named by its operation
 * (`SELECT`, `INSERT`, `BEGIN`...), with the statement as compiled. Kysely sends every value as a
 * parameter (`$1`, `?`) and the parameters are never recorded, so a span holds no secret and no data.
 */
function queryAttributes(system: DatabaseSystem, query: CompiledQuery): Record<string, SpanValue> {
  const operation = /^\s*([a-z]+)/i.exec(query.sql)?.[1]?.toUpperCase() ?? 'QUERY';
  return {
    'db.system.name': system,
    'db.operation.name': operation,
    'db.query.text': query.sql.slice(0, MAX_QUERY_TEXT),
  };
}

/**
 * Makes a connection run each statement inside a span while tracing is on. Patched in place, once:
 * the driver's own methods (transactions, release) need the very object they handed out.
 */
function instrument(connection: DatabaseConnection, system: DatabaseSystem, seen: WeakSet<object>): void {
  if (seen.has(connection)) return;
  seen.add(connection);
  const execute = connection.executeQuery.bind(connection);
  connection.executeQuery = <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
    if (!tracingActive()) return execute<R>(query);
    const attributes = queryAttributes(system, query);
    return traced(String(attributes['db.operation.name']), attributes, () => execute<R>(query));
  };
}

/** A driver that hands out instrumented connections and otherwise does exactly what `inner` does. */
class QuerySpanDriver implements Driver {
  private readonly seen = new WeakSet<object>();

  constructor(
    private readonly inner: Driver,
    private readonly system: DatabaseSystem,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    instrument(connection, this.system, this.seen);
    return connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    if (!this.inner.savepoint) throw new Error('this driver has no savepoints');
    return this.inner.savepoint(connection, name, compile);
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    if (!this.inner.rollbackToSavepoint) throw new Error('this driver has no savepoints');
    return this.inner.rollbackToSavepoint(connection, name, compile);
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']) {
    if (!this.inner.releaseSavepoint) throw new Error('this driver has no savepoints');
    return this.inner.releaseSavepoint(connection, name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/**
 * `dialect`, with a span around every statement when OpenTelemetry tracing is on (telemetry/tracing.ts).
 * Tracing can start after the database is open; while it is off a statement costs one more check.
 */
export function withQuerySpans(dialect: Dialect, system: DatabaseSystem): Dialect {
  return {
    createDriver: () => new QuerySpanDriver(dialect.createDriver(), system),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}
