/** A change event of table `t` as the client's patchers get it (no position, columns or ids): for unit tests of patch.ts and patchPages.ts. */
import type { RealtimeChange } from '../../../lib/sync/changes';

export const rowChange = (eventType: RealtimeChange['eventType'], row: Record<string, unknown>, old: Record<string, unknown>): RealtimeChange => ({
  eventType,
  schema: 'public',
  table: 't',
  commit_timestamp: null,
  new: eventType === 'DELETE' ? {} : row,
  old,
  errors: null,
  ids: [],
  columns: [],
  position: null,
});
