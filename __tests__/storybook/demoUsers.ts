/** Two fresh demo authors (Ada and Brian, with a unique tag) and a story config for them on the test stack, with the realtime URL. */
import { randomUUID } from 'node:crypto';
import type { DemoConfig } from '../../storybook/demoConfig';
import { sql, testStack } from '../support/stack';

export async function demoUsers() {
  const stack = testStack();
  const tag = randomUUID().slice(0, 8);
  const a = { id: randomUUID(), name: `Ada-${tag}` };
  const b = { id: randomUUID(), name: `Brian-${tag}` };
  await sql('insert into authors (id, name) values ($1, $2), ($3, $4)', [a.id, a.name, b.id, b.name]);
  const config: DemoConfig = {
    postgrestUrl: stack.postgrestUrl,
    anonKey: stack.anonKey,
    realtimeUrl: stack.realtimeUrl,
    users: [a, b].map((user) => ({ ...user, token: stack.signToken({ sub: user.id }) })),
  };
  return { tag, a, b, config };
}

/** demoUsers() with one published post each, titled `A published <tag>` and `B published <tag>` (B's is newer). */
export async function demoUsersWithPosts() {
  const users = await demoUsers();
  const { tag, a, b } = users;
  const titles = { a: `A published ${tag}`, b: `B published ${tag}` };
  await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [a.id, titles.a]);
  await sql('insert into posts (author_id, title, published) values ($1, $2, true)', [b.id, titles.b]);
  return { ...users, titles };
}
