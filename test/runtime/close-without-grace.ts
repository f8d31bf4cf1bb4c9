/**
 * A Kafka listener's shutdown grace far beyond any test's timeout: a scenario closing a listener
 * whose clients are idle or gone must not wait out the grace (it did on Deno while a closing
 * connection stopped reading and so never saw the client's FIN); if it does, the test times out.
 */
export const CLOSE_WITHOUT_GRACE_MS = 600_000;
