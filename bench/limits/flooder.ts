/**
 * Child process of bench/limits.ts: a flooding client. RECEIVERS sockets join the flood room (so
 * every accepted broadcast fans out), then one socket sends broadcasts to it as fast as its send
 * buffer drains; when the server closes it, it reconnects and floods again, as a determined client
 * would. Driven over IPC: `start`, then `stop` answers what it sent, how often it was closed and why.
 */
import WebSocket from 'ws';

interface Start {
  cmd: 'start';
  url: string;
  apikey: string;
  topic: string;
  receivers: number;
}

const HIGH_WATER = 1024 * 1024;
let running = false;
let sent = 0;
let received = 0;
let refused = 0;
const closes: Array<{ code: number; reason: string }> = [];
const sockets: WebSocket[] = [];

function open(url: string, apikey: string): Promise<WebSocket> {
  const socket = new WebSocket(`${url}/websocket?apikey=${encodeURIComponent(apikey)}&vsn=1.0.0`);
  sockets.push(socket);
  return new Promise((resolve, reject) => socket.once('open', () => resolve(socket)).once('error', reject));
}

function joinFrame(topic: string): string {
  return JSON.stringify({ topic, event: 'phx_join', ref: 'join', join_ref: 'join', payload: { config: { broadcast: { self: false } } } });
}

async function flood(start: Start): Promise<void> {
  const payload = JSON.stringify({ type: 'broadcast', event: 'flood', payload: { x: 'y'.repeat(100) } });
  while (running) {
    const socket = await open(start.url, start.apikey).catch(() => null);
    if (!socket) continue;
    socket.on('message', (data: Buffer) => {
      if (data.includes('RateLimitReached')) refused++;
    });
    const closed = new Promise<void>((resolve) =>
      socket.once('close', (code, reason) => {
        if (running) closes.push({ code, reason: String(reason) });
        resolve();
      }),
    );
    socket.send(joinFrame(start.topic));
    let ref = 0;
    while (running && socket.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 200 && socket.bufferedAmount < HIGH_WATER; i++) {
        socket.send(`{"topic":"${start.topic}","event":"broadcast","ref":"${++ref}","join_ref":"join","payload":${payload}}`);
        sent++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!running) socket.terminate();
    await closed;
  }
}

process.on('message', async (message: Start | { cmd: 'stop' | 'exit' }) => {
  if (message.cmd === 'start') {
    running = true;
    sent = received = refused = 0;
    closes.length = 0;
    for (let i = 0; i < message.receivers; i++) {
      const socket = await open(message.url, message.apikey);
      socket.on('message', (data: Buffer) => {
        if (data.includes('"flood"')) received++;
      });
      socket.send(joinFrame(message.topic));
    }
    process.send!({ type: 'started' });
    void flood(message);
  } else if (message.cmd === 'stop') {
    running = false;
    for (const socket of sockets.splice(0)) socket.terminate();
    process.send!({ type: 'stopped', sent, refused, receivedByRoom: received, closes: closes.length, closeReasons: [...new Set(closes.map((c) => `${c.code} ${c.reason}`))] });
  } else process.exit(0);
});
