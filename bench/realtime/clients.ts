/**
 * Child process of bench/realtime.ts: many lightweight raw `ws` clients speaking Phoenix vsn 2.0.0
 * text frames. Frames are counted without JSON.parse; every SAMPLE_EVERY-th postgres_changes frame has
 * its commit_timestamp extracted for the commit-to-client latency. Driven over IPC.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const SAMPLE_EVERY = Number(process.env.SAMPLE_EVERY ?? 7);
const PC = Buffer.from('"postgres_changes"');
const CT = Buffer.from('"commit_timestamp":"');
const REPLY_OK = Buffer.from('"phx_reply"');
const SUBSCRIBED = Buffer.from('Subscribed to PostgreSQL');

interface Client {
  ws: WebSocket;
  frames: number;
  joined: boolean;
  subscribed: boolean;
  ref: number;
  heartbeat?: NodeJS.Timeout;
}

let clients: Client[] = [];
let frames = 0;
let bytes = 0;
let seen = 0;
let lastFrameAt = 0;
let latencies: number[] = [];

const now = () => performance.timeOrigin + performance.now();

function onFrame(client: Client, data: Buffer) {
  if (!client.joined) {
    if (data.indexOf(REPLY_OK) !== -1 && data.indexOf('"ok"') !== -1) client.joined = true;
    return;
  }
  if (!client.subscribed) {
    // Changes are only streamed to a channel after its "Subscribed to PostgreSQL" system message.
    if (data.indexOf(SUBSCRIBED) !== -1) client.subscribed = true;
    return;
  }
  if (data.indexOf(PC) === -1) return;
  // "postgres_changes" also appears in system messages: a change frame carries commit_timestamp.
  const at = data.indexOf(CT);
  if (at === -1) return;
  client.frames++;
  frames++;
  bytes += data.length;
  lastFrameAt = now();
  if (++seen % SAMPLE_EVERY === 0) {
    const start = at + CT.length;
    const ts = Date.parse(data.toString('latin1', start, start + 24));
    if (!Number.isNaN(ts)) latencies.push(lastFrameAt - ts);
  }
}

/** Client i connects to urls[i % urls.length] (one URL per realtime node). */
async function connect(urls: string[], apikey: string, tokens: string[], table: string) {
  const targets = urls.map((url) => `${url.replace(/^http/, 'ws')}/websocket?apikey=${encodeURIComponent(apikey)}&vsn=2.0.0`);
  const opened: Promise<void>[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const ws = new WebSocket(targets[i % targets.length]!, { perMessageDeflate: false });
    const client: Client = { ws, frames: 0, joined: false, subscribed: false, ref: 1 };
    clients.push(client);
    ws.on('message', (data: Buffer) => onFrame(client, data));
    ws.on('error', (e) => process.send?.({ type: 'log', message: `client ${i}: ${e.message}` }));
    ws.on('close', (code, reason) => {
      if (client.heartbeat) clearInterval(client.heartbeat);
      if (!closing) process.send?.({ type: 'log', message: `client ${i} closed ${code} ${reason.toString()}` });
    });
    opened.push(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => {
          const config = {
            broadcast: { ack: false, self: false },
            presence: { key: '', enabled: false },
            postgres_changes: [{ event: 'INSERT', schema: 'public', table }],
            private: false,
          };
          ws.send(JSON.stringify(['1', String(client.ref++), `realtime:${table}`, 'phx_join', { config, access_token: tokens[i] }]));
          client.heartbeat = setInterval(() => ws.send(JSON.stringify([null, String(client.ref++), 'phoenix', 'heartbeat', {}])), 25_000);
          resolve();
        });
        ws.once('error', reject);
      }),
    );
    // Don't open hundreds of handshakes in one tick.
    if (i % 50 === 49) await Promise.all(opened.slice(-50));
  }
  await Promise.all(opened);
  const deadline = Date.now() + 20_000;
  while (clients.some((c) => !c.subscribed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return { joined: clients.filter((c) => c.joined).length, subscribed: clients.filter((c) => c.subscribed).length };
}

let closing = false;
async function closeAll() {
  closing = true;
  await Promise.all(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.heartbeat) clearInterval(c.heartbeat);
          c.ws.removeAllListeners('close');
          if (c.ws.readyState === WebSocket.CLOSED) return resolve();
          c.ws.once('close', () => resolve());
          c.ws.close();
          // A server still draining a backlog may not answer the close handshake in time.
          setTimeout(() => {
            c.ws.terminate();
            resolve();
          }, 2000);
        }),
    ),
  );
  clients = [];
  closing = false;
}

process.on('message', async (msg: any) => {
  try {
    switch (msg.cmd) {
      case 'connect': {
        const { joined, subscribed } = await connect(msg.urls ?? [msg.url], msg.apikey, msg.tokens, msg.table);
        process.send!({ type: 'connected', joined, subscribed });
        break;
      }
      case 'reset':
        frames = 0;
        bytes = 0;
        seen = 0;
        latencies = [];
        lastFrameAt = 0;
        for (const c of clients) c.frames = 0;
        process.send!({ type: 'reset' });
        break;
      case 'stats':
        process.send!({
          type: 'stats',
          frames,
          bytes,
          lastFrameAt,
          open: clients.filter((c) => c.ws.readyState === WebSocket.OPEN).length,
          perClient: msg.perClient ? clients.map((c) => c.frames) : undefined,
          latencies: msg.latencies ? latencies : undefined,
        });
        break;
      case 'close':
        await closeAll();
        process.send!({ type: 'closed' });
        break;
      case 'exit':
        process.exit(0);
    }
  } catch (e) {
    process.send!({ type: 'error', message: (e as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));
