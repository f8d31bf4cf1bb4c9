import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topicConfigReference } from '../../../../../broker/kafka/apis/topic-config-reference.ts';
import { TOPIC_CONFIG_NAMES } from '../../../../../broker/topic/topic-config.ts';
import { repoRoot } from '../../../../helpers/child-process.ts';

describe('the topic config reference', () => {
  it('documents every topic config the broker validates, and README.md shows exactly that table', () => {
    const reference = topicConfigReference();
    for (const name of TOPIC_CONFIG_NAMES) expect(reference).toContain(`| \`${name}\` |`);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = /<!-- topic-configs:begin -->\n([\s\S]*?)\n<!-- topic-configs:end -->/.exec(readme);
    expect(block, 'README.md has a topic-configs block').not.toBeNull();
    expect(block![1]).toBe(reference);
  });
});
