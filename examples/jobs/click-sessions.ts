/**
 * Click sessionization: a user's clicks with less than 30 minutes between them form one session;
 * each session goes out once, when it is over.
 *
 *   rill run examples/jobs/click-sessions.ts --bootstrap localhost:9092
 *
 * Input `clicks` (key: user id, value: the page as text; the record's timestamp is the click's).
 * Output `sessions` (key: user id, value: JSON Session), once stream time passes the session's last
 * click plus the 30-minute gap and a 10-minute grace: until then a click may still extend it, or
 * join it with the user's next session. The grace is how far out of order clicks may arrive: a
 * click more than 10 minutes behind the latest one seen (of any user of its partition) is dropped
 * as late and counted (`lateRecordsDropped`).
 */
import { jsonSerde, stringSerde } from '../../sdk/mod.ts';
import { BufferConfig, defineJob, SessionWindows, Suppressed } from '../../streams/mod.ts';

export const INACTIVITY_GAP_MS = 30 * 60_000;
export const GRACE_MS = 10 * 60_000;

export interface Session {
  startMs: number;
  endMs: number;
  clicks: number;
  /** Pages in the order they were first visited in the session. */
  pages: string[];
}

type Visits = Pick<Session, 'clicks' | 'pages'>;

export default defineJob({
  applicationId: 'click-sessions',
  config: { guarantee: 'exactly_once' },
  topics: [
    { name: 'clicks', partitions: 2 },
    { name: 'sessions', partitions: 2 },
  ],
  topology: (builder) => {
    builder
      .stream('clicks', { key: stringSerde, value: stringSerde })
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(INACTIVITY_GAP_MS, GRACE_MS))
      .aggregate(
        (): Visits => ({ clicks: 0, pages: [] }),
        (_user, page, visits) => ({ clicks: visits.clicks + 1, pages: visits.pages.includes(page) ? visits.pages : [...visits.pages, page] }),
        // Two sessions joined by a click between them: the earlier one's pages come first.
        (_user, earlier, later) => ({ clicks: earlier.clicks + later.clicks, pages: [...new Set([...earlier.pages, ...later.pages])] }),
        { name: 'click-visits', value: jsonSerde<Visits>() },
      )
      .suppress(Suppressed.untilWindowCloses(BufferConfig.maxRecords(100_000).shutDownWhenFull(), { name: 'session-finals' }))
      .toStream()
      .map((session, visits): [string, Session] => [session.key, { startMs: session.window.startMs, endMs: session.window.endMs, ...visits }], {
        key: stringSerde,
        value: jsonSerde<Session>(),
      })
      .to('sessions');
  },
});
