/**
 * Resolves once `check` returns a value other than undefined, polling every 10 ms: for state that
 * changes on a broker's timers (lock expiry, check-back, retention), where no event says when.
 */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, attempts = 2000): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}
