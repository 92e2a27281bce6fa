// useRealtime<Row>: the payload's rows are typed by the row type given (as supabase-js does), so the
// guide's `newRecord as Post` compiles; a misspelt column does not (checked by the project type-check).
import type { RealtimePostgresChangesPayload } from '../../lib/react';

interface Post {
  id: number;
  title: string;
}

test('a typed payload reads its row columns; untyped, any column reads', () => {
  const payload: RealtimePostgresChangesPayload<Post> = { eventType: 'UPDATE', schema: 'public', table: 'posts', commit_timestamp: null, errors: null, new: { id: 1, title: 'a' }, old: { id: 1 } };
  const title: string = payload.new.title;
  // @ts-expect-error: not a column of Post
  void payload.new.titel;
  const untyped: RealtimePostgresChangesPayload = payload;
  const cast = untyped.new as Post;
  expect([title, cast.title, payload.old.id]).toEqual(['a', 'a', 1]);
});
