/**
 * The replication slot: TEMPORARY, created on the replication connection itself right before
 * START_REPLICATION, so PostgreSQL drops it the moment that connection ends, however it ends
 * (stop(), a crash or SIGKILL of this process, a lost network).
 *
 * Why temporary and not a permanent (dedicated) slot: a permanent slot left behind by a process
 * that died pins WAL on the server until someone drops it by hand, and eventually fills the disk:
 * an outage of the database, much worse than the refetch a lost slot costs us. What a permanent
 * slot would buy is limited: across a restart of this server the in-memory resume log is empty
 * anyway (clients are told `too_old` and refetch); only a dropped connection or a PostgreSQL
 * restart while we keep running would resume without a gap. With a temporary slot those cases
 * report `resyncNeeded` and subscribers refetch.
 *
 * Each connection gets its own slot name (`<base>_<n>`): after a network failure the previous
 * walsender can live on until wal_sender_timeout, still holding its slot's name.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PgoutputPlugin } from 'pg-logical-replication';
import { ReplicationError } from './errors.js';
import { parseLsn } from './resumeLog.js';
import { decodePgoutput } from './pgoutput.js';

const SLOT_NAME_PATTERN = /^[a-z0-9_]{1,50}$/;

/** The base of slot names when the options give none: unique per stream. */
export function defaultSlotBase(): string {
  return `rtk_realtime_${randomBytes(4).toString('hex')}`;
}

/** Checks a `slotName` option; PostgreSQL allows [a-z0-9_] up to 63 characters and we append `_<n>`. */
export function validateSlotBase(value: unknown): string {
  if (typeof value !== 'string' || !SLOT_NAME_PATTERN.test(value)) {
    throw new ReplicationError('REPLICATION_BAD_OPTION', 'slotName must be 1 to 50 characters of a-z, 0-9 and _');
  }
  return value;
}

/**
 * The publication as an element of pgoutput's `publication_names`: a list of identifiers (unquoted
 * ones are folded to lower case, so quote it) inside a string literal (double its quotes).
 */
export function publicationListLiteral(publication: string): string {
  return `"${publication.replace(/"/g, '""')}"`.replace(/'/g, "''");
}

/** An LSN as PostgreSQL prints it (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * pg-logical-replication's pgoutput plugin with our decoder (text values, see pgoutput.ts), which
 * creates its temporary slot on the connection the service opened, then starts replication at the
 * slot's consistent point.
 */
export class TemporarySlotPlugin extends PgoutputPlugin {
  /** The slot's consistent point once created: every transaction committed after it is streamed. */
  consistentPoint: bigint | undefined;

  /** `messages`: pgoutput also sends logical decoding messages (PostgreSQL 14+, which the `messages` option always needs). */
  constructor(publication: string, messages = false) {
    super({ protoVersion: 1, publicationNames: [publicationListLiteral(publication)], messages });
  }

  /** Returns a PgoutputMessage (pgoutput.ts); typed as the base class's message to stay an override. */
  override parse(buffer: Buffer): ReturnType<PgoutputPlugin['parse']> {
    return decodePgoutput(buffer) as unknown as ReturnType<PgoutputPlugin['parse']>;
  }

  override async start(client: pg.Client, slotName: string): Promise<unknown> {
    // NOEXPORT_SNAPSHOT: we take no snapshot (no initial copy); the old spelling works from PG 10 on.
    const created = await client.query<{ consistent_point: string }>(
      `CREATE_REPLICATION_SLOT "${slotName}" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`,
    );
    const point = created.rows[0]?.consistent_point;
    if (!point) throw new ReplicationError('REPLICATION_CONNECT_FAILED', 'CREATE_REPLICATION_SLOT returned no consistent point');
    this.consistentPoint = parseLsn(point);
    return super.start(client, slotName, point);
  }
}
