// jsdom for React tests, with Node's fetch and the web globals it needs (jsdom has no fetch, and
// Node's fetch only accepts Node's own AbortSignal).
import { TestEnvironment } from 'jest-environment-jsdom';

export default class JsdomWithNodeFetch extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    const { fetch, Request, Response, Headers, TextEncoder, TextDecoder, AbortController, AbortSignal, ReadableStream, structuredClone } = globalThis;
    Object.assign(this.global, { fetch, Request, Response, Headers, TextEncoder, TextDecoder, AbortController, AbortSignal, ReadableStream, structuredClone });
  }
}
