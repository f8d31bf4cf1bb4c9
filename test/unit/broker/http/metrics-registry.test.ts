import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../../../broker/http/metrics-registry.ts';

describe('MetricsRegistry', () => {
  it('keeps one series per label set whatever the order of the labels, escaped in the exposition', () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter('requests_total', 'Requests.');
    requests.inc({ method: 'GET', route: '/a', status: '200' });
    requests.inc({ status: '200', route: '/a', method: 'GET' });
    requests.inc({ route: '/a', method: 'GET', status: '200' }, 3);
    requests.inc({ method: 'GET', route: 'say "hi"\\\n', status: '500' });
    const latency = registry.histogram('latency_seconds', 'Latency.', [0.1, 1]);
    latency.observe({ topic: 't' }, 0.5);
    latency.observe({ topic: 't' }, 2);
    expect(registry.render().split('\n')).toEqual([
      '# HELP requests_total Requests.',
      '# TYPE requests_total counter',
      'requests_total{method="GET",route="/a",status="200"} 5',
      'requests_total{method="GET",route="say \\"hi\\"\\\\\\n",status="500"} 1',
      '# HELP latency_seconds Latency.',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{topic="t",le="0.1"} 0',
      'latency_seconds_bucket{topic="t",le="1"} 1',
      'latency_seconds_bucket{topic="t",le="+Inf"} 2',
      'latency_seconds_sum{topic="t"} 2.5',
      'latency_seconds_count{topic="t"} 2',
      '',
    ]);
  });

  it('starts a gauge over after reset, also for label sets seen before', () => {
    const registry = new MetricsRegistry();
    const size = registry.gauge('size_bytes', 'Size.');
    size.set({ topic: 'a', partition: '0' }, 10);
    size.set({ topic: 'b', partition: '0' }, 20);
    size.reset();
    size.set({ topic: 'a', partition: '0' }, 11);
    expect(registry.render()).toBe('# HELP size_bytes Size.\n# TYPE size_bytes gauge\nsize_bytes{partition="0",topic="a"} 11\n');
  });

  it('refuses to move a mirrored counter backwards', () => {
    const total = new MetricsRegistry().counter('txns_total', 'Transactions.');
    total.setTotal({}, 3);
    expect(() => total.setTotal({}, 2)).toThrow(/invariant broken/);
  });
});
