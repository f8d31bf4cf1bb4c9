import type { Hono } from 'hono';
import { AclOperation } from '../auth/acl.ts';
import { deadLetterTopicOf } from '../share/share-config.ts';
import { RecordState } from '../share/share-record-state.ts';
import { authorizeGroup, groupListed, offsetShown } from './group-access.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { respond } from './route-helpers.ts';

const GROUP_ID = /^[\w.\-]{1,249}$/;
/** Offsets of one share partition's in-flight window inspected at most per request; beyond it the figures say `truncated`. */
const MAX_WINDOW_OFFSETS = 20_000;

/**
 * What the console shows of share groups (KIP-932) beyond `GET /v1/share-groups/{group}`:
 * `GET /v1/share-groups` lists the groups the caller may describe (as `/v1/groups`), and
 * `GET /v1/share-groups/{group}/partitions` gives each share partition's start and end offsets
 * (SPSO, SPEO), its in-flight records by state (available, acquired, acknowledged, archived),
 * those waiting out a retry backoff, and how often they were delivered; plus the records in the
 * group's dead-letter topic when the caller may read it. Needs Group Describe; partitions of
 * topics the caller may not see are left out, as a group's offsets are.
 */
export function shareConsoleRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  const shares = ctx.broker.shareGroups;

  app.get('/v1/share-groups', (c) => {
    const principal = c.get('principal');
    const groups = shares
      .groupIds()
      .filter((groupId) => groupListed(principal, groupId))
      .map((groupId) => {
        const described = shares.describe(groupId);
        return { groupId, groupState: described.groupState, members: described.members.length };
      });
    return respond(c, { groups });
  });

  app.get('/v1/share-groups/:group/partitions', (c) => {
    const principal = c.get('principal');
    const group = c.req.param('group') ?? '';
    if (!GROUP_ID.test(group)) throw new HttpProblem('badRequest', `share group id "${group}" must be 1 to 249 of letters, digits, '.', '_', '-'`);
    authorizeGroup(principal, group, AclOperation.DESCRIBE);
    if (shares.describe(group).groupState === 'Dead') throw new HttpProblem('notFound', `share group "${group}" does not exist`);
    const nowMs = ctx.options.nowMs();
    const partitions = shares
      .partitionsOf(group)
      .filter((p) => offsetShown(principal, p.topic) && ctx.broker.hasTopic(p.topic))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
      .map(({ topic, partition, state }) => {
        const counts = { available: 0, acquired: 0, acknowledged: 0, archived: 0, inBackoff: 0 };
        const deliveryCounts: Record<string, number> = {};
        const end = Math.min(state.endOffset, state.startOffset + MAX_WINDOW_OFFSETS);
        for (let offset = state.startOffset; offset < end; offset++) {
          const record = state.inFlight(offset);
          if (record === undefined) continue;
          if (record.state === RecordState.AVAILABLE) {
            counts.available++;
            if (record.availableAtMs > nowMs) counts.inBackoff++;
          } else if (record.state === RecordState.ACQUIRED) counts.acquired++;
          else if (record.state === RecordState.ACKNOWLEDGED) counts.acknowledged++;
          else counts.archived++;
          if (record.deliveryCount > 0) deliveryCounts[record.deliveryCount] = (deliveryCounts[record.deliveryCount] ?? 0) + 1;
        }
        const highWatermark = ctx.broker.describeTopic(topic).partitions.find((p) => p.partition === partition)?.highWatermark ?? 0;
        return {
          topic,
          partition,
          startOffset: state.startOffset,
          endOffset: state.endOffset,
          highWatermark,
          /** Records from the start offset to the high watermark not yet acknowledged or archived. */
          lag: Math.max(0, highWatermark - state.startOffset - counts.acknowledged - counts.archived),
          ...counts,
          deliveryCounts,
          truncated: end < state.endOffset,
        };
      });
    const deadLetterTopic = deadLetterTopicOf(group, shares.configOf(group));
    const deadLettered =
      ctx.broker.hasTopic(deadLetterTopic) && offsetShown(principal, deadLetterTopic)
        ? ctx.broker.describeTopic(deadLetterTopic).partitions.reduce((sum, p) => sum + p.highWatermark - p.logStartOffset, 0)
        : null;
    return respond(c, { groupId: group, deadLetterTopic, deadLettered, partitions });
  });
}
