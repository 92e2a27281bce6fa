/** Rules for the custom headers a request may carry (`setHeader`), shared by the builder and request checks. */

/** RFC 9110 token characters: what a header name may consist of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters (tab excepted) and anything past Latin-1, which fetch cannot send. */
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]|[^\u0000-\u00ff]/;

/**
 * Headers the library composes itself (lower case → why): a custom value would silently replace or
 * fight with what the builder, the base query or the HTTP client sets.
 */
export const OWNED_HEADERS: Readonly<Record<string, string>> = {
  prefer: 'is composed from the builder\'s options (select() → return, count, upsert(), rollback(), maxAffected())',
  accept: 'follows the result shape (single(), maybeSingle(), csv(), geojson(), explain())',
  'content-type': 'is set from the body (JSON)',
  'accept-profile': 'is set from the schema option of from() / rpc()',
  'content-profile': 'is set from the schema option of from() / rpc()',
  authorization: 'is set by the base query from apiKey and getToken',
  apikey: 'is set by the base query from apiKey',
  'content-length': 'is managed by the HTTP client',
  host: 'is managed by the HTTP client',
  connection: 'is managed by the HTTP client',
  'keep-alive': 'is managed by the HTTP client',
  'transfer-encoding': 'is managed by the HTTP client',
  te: 'is managed by the HTTP client',
  trailer: 'is managed by the HTTP client',
  upgrade: 'is managed by the HTTP client',
  expect: 'is managed by the HTTP client',
};

/** True when `name` is a well-formed header name. */
export function isHeaderName(name: unknown): name is string {
  return typeof name === 'string' && TOKEN.test(name);
}

/** Why `name` cannot be a custom header name, or null when it can. */
export function explainHeaderName(name: unknown): string | null {
  if (!isHeaderName(name)) {
    return `header name must be a token (letters, digits and !#$%&'*+-.^_\`|~), got ${typeof name === 'string' ? JSON.stringify(name) : typeof name}`;
  }
  const owned = OWNED_HEADERS[name.toLowerCase()];
  return owned === undefined ? null : `${name} ${owned}; it cannot be set as a custom header`;
}

/** Why `value` cannot be sent as a header value, or null when it can. */
export function explainHeaderValue(value: unknown): string | null {
  if (typeof value !== 'string') return `header value must be a string, got ${value === null ? 'null' : typeof value}`;
  if (BAD_VALUE.test(value)) return 'header value must be Latin-1 text without control characters (encode other text, e.g. with encodeURIComponent)';
  return null;
}
