/** The message of a failed request: PostgREST's error object or RTK's serialized error. */
export function messageOf(error: unknown): string {
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') return (error as { message: string }).message;
  return String(error);
}

/** Shows a failed request's message, and the whole error object exactly as the hook returned it on demand. */
export function ErrorBox({ title, error, explanation }: { title: string; error: unknown; explanation?: string }) {
  return (
    <div role="alert" className="error">
      <strong>{title}:</strong> {explanation ?? messageOf(error)}
      <details>
        <summary>The error object</summary>
        <pre>{JSON.stringify(error, null, 2)}</pre>
      </details>
    </div>
  );
}
