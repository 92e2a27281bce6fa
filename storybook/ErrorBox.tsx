/** The message of a failed request: PostgREST's error object or RTK's serialized error. */
export function messageOf(error: unknown): string {
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  return String(error);
}

/** Shows a failed request's message and the whole error object, exactly as the hook returned it. */
export function ErrorBox({ title, error }: { title: string; error: unknown }) {
  return (
    <div role="alert" style={{ border: '1px solid #d33', background: '#fff4f4', padding: 8, margin: '8px 0' }}>
      <strong>{title}:</strong> {messageOf(error)}
      <pre style={{ fontSize: 12, whiteSpace: 'pre-wrap', margin: '4px 0 0' }}>{JSON.stringify(error, null, 2)}</pre>
    </div>
  );
}
