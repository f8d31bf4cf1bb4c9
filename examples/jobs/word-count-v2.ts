/**
 * Version 2 of word count (word-count.ts): the same job, except that it leaves out English stop
 * words. It runs beside version 1 under its own application id, into its own output topic
 * `word-counts-v2`, so the two can be compared with `rill streams diff word-counts word-counts-v2`
 * before consumers switch over (the README's reprocessing walkthrough).
 */
import { wordCountJob } from './word-count.ts';

export default wordCountJob({ applicationId: 'word-count-v2', output: 'word-counts-v2', stopWords: ['a', 'an', 'and', 'the', 'over'] });
