/**
 * Protocol messages for the codec tests, one per event shape of docs/realtime-protocol.md
 * (§1.4 control events, §2.2–2.5 join / postgres_changes / system, §3 presence, §4 broadcast).
 */
import { channelLifecycle, channelPush, fanoutMessage, replyTo, type PhoenixMessage } from '../../../lib/server/realtime/codec/messages.js';

const topic = 'realtime:room';
const binding = { event: '*', schema: 'public', table: 'todos', filter: 'id=eq.1' };

/** What realtime-js sends (§1.4, §2.2, §3, §4). */
export const clientMessages: Record<string, PhoenixMessage> = {
  join: {
    joinRef: '1',
    ref: '1',
    topic,
    event: 'phx_join',
    payload: {
      config: { broadcast: { ack: false, self: false }, presence: { key: 'u1', enabled: true }, postgres_changes: [binding], private: false },
      access_token: 'header.claims.signature',
      version: 'realtime-js/2.109.0',
    },
  },
  heartbeat: { joinRef: null, ref: '26', topic: 'phoenix', event: 'heartbeat', payload: {} },
  leave: { joinRef: '1', ref: '3', topic, event: 'phx_leave', payload: {} },
  accessToken: { joinRef: '1', ref: '4', topic, event: 'access_token', payload: { access_token: 'new.token.here' } },
  broadcast: { joinRef: '1', ref: '5', topic, event: 'broadcast', payload: { type: 'broadcast', event: 'cursor', payload: { x: 1, y: 2 } } },
  track: { joinRef: '1', ref: '6', topic, event: 'presence', payload: { type: 'presence', event: 'track', payload: { online_at: '2026-01-01T00:00:00Z' } } },
  untrack: { joinRef: '1', ref: '7', topic, event: 'presence', payload: { type: 'presence', event: 'untrack' } },
};

/** A postgres_changes payload (§2.4) with characters JSON must escape. */
export const change = {
  ids: [106243155],
  data: {
    schema: 'public',
    table: 'todos',
    commit_timestamp: '2026-11-24T10:00:00.123Z',
    type: 'UPDATE',
    columns: [{ name: 'id', type: 'int8' }, { name: 'title', type: 'text' }],
    record: { id: 1, title: 'héllo "quoted" \u2028' },
    old_record: { id: 1 },
    errors: null,
  },
};

/** What the server sends (§1.3 wire order, §1.4, §2.3–2.5, §3, §4), with the exact v2 text. */
export const serverMessages: Record<string, { message: PhoenixMessage; v2: string; v1: string }> = {
  heartbeatReply: {
    message: replyTo(clientMessages.heartbeat!, 'ok', {}),
    v2: '[null,"26","phoenix","phx_reply",{"status":"ok","response":{}}]',
    v1: '{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"26"}',
  },
  joinReply: {
    message: replyTo(clientMessages.join!, 'ok', { postgres_changes: [{ ...binding, id: 106243155 }] }),
    v2: '["1","1","realtime:room","phx_reply",{"status":"ok","response":{"postgres_changes":[{"event":"*","schema":"public","table":"todos","filter":"id=eq.1","id":106243155}]}}]',
    v1: '{"topic":"realtime:room","event":"phx_reply","payload":{"status":"ok","response":{"postgres_changes":[{"event":"*","schema":"public","table":"todos","filter":"id=eq.1","id":106243155}]}},"ref":"1"}',
  },
  joinError: {
    message: replyTo(clientMessages.join!, 'error', { reason: 'InvalidJWTToken: Token has expired 12 seconds ago' }),
    v2: '["1","1","realtime:room","phx_reply",{"status":"error","response":{"reason":"InvalidJWTToken: Token has expired 12 seconds ago"}}]',
    v1: '{"topic":"realtime:room","event":"phx_reply","payload":{"status":"error","response":{"reason":"InvalidJWTToken: Token has expired 12 seconds ago"}},"ref":"1"}',
  },
  system: {
    message: channelPush('1', topic, 'system', { extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: 'room' }),
    v2: '["1",null,"realtime:room","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"room"}]',
    v1: '{"topic":"realtime:room","event":"system","payload":{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"room"},"ref":null}',
  },
  presenceState: {
    message: channelPush('1', topic, 'presence_state', { u1: { metas: [{ phx_ref: 'F1', online_at: 1 }] } }),
    v2: '["1",null,"realtime:room","presence_state",{"u1":{"metas":[{"phx_ref":"F1","online_at":1}]}}]',
    v1: '{"topic":"realtime:room","event":"presence_state","payload":{"u1":{"metas":[{"phx_ref":"F1","online_at":1}]}},"ref":null}',
  },
  presenceDiff: {
    message: fanoutMessage(topic, 'presence_diff', { joins: { u2: { metas: [{ phx_ref: 'F2' }] } }, leaves: {} }),
    v2: '[null,null,"realtime:room","presence_diff",{"joins":{"u2":{"metas":[{"phx_ref":"F2"}]}},"leaves":{}}]',
    v1: '{"topic":"realtime:room","event":"presence_diff","payload":{"joins":{"u2":{"metas":[{"phx_ref":"F2"}]}},"leaves":{}},"ref":null}',
  },
  postgresChanges: {
    message: fanoutMessage(topic, 'postgres_changes', change),
    v2: `[null,null,"realtime:room","postgres_changes",${JSON.stringify(change)}]`,
    v1: `{"topic":"realtime:room","event":"postgres_changes","payload":${JSON.stringify(change)},"ref":null}`,
  },
  broadcast: {
    message: fanoutMessage(topic, 'broadcast', { type: 'broadcast', event: 'cursor', payload: { x: 1 }, meta: { id: 'm1' } }),
    v2: '[null,null,"realtime:room","broadcast",{"type":"broadcast","event":"cursor","payload":{"x":1},"meta":{"id":"m1"}}]',
    v1: '{"topic":"realtime:room","event":"broadcast","payload":{"type":"broadcast","event":"cursor","payload":{"x":1},"meta":{"id":"m1"}},"ref":null}',
  },
  close: {
    message: channelLifecycle('phx_close', '1', topic),
    v2: '["1","1","realtime:room","phx_close",{}]',
    v1: '{"topic":"realtime:room","event":"phx_close","payload":{},"ref":"1"}',
  },
  error: {
    message: channelLifecycle('phx_error', '1', topic, { reason: 'channel_crash' }),
    v2: '["1","1","realtime:room","phx_error",{"reason":"channel_crash"}]',
    v1: '{"topic":"realtime:room","event":"phx_error","payload":{"reason":"channel_crash"},"ref":"1"}',
  },
};
