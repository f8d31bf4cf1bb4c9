/**
 * A fraud rule with a dead-letter topic: card payments in, alerts out for payments over a limit
 * and for cards used more than 3 times in a minute; malformed payments go to the dead-letter
 * topic `fraud-rule-dlq` instead of stopping the job.
 *
 *   rill run examples/jobs/fraud-rule.ts --bootstrap localhost:9092
 *
 * Input `payments` (key: card number, value: JSON Payment). Output `fraud-alerts` (key: card number,
 * value: JSON Alert). A payment that is not JSON (a deserialization failure) or lacks a positive
 * amount (a processing failure) is written to `fraud-rule-dlq` as it was read, with headers saying
 * why and where it came from (`rill.error`, `rill.error.kind`, `rill.source.topic`,
 * `rill.source.partition`, `rill.source.offset`), and counted in `recordsDeadLettered`.
 */
import { jsonSerde, stringSerde } from '../../sdk/mod.ts';
import { defineJob, TimeWindows } from '../../streams/mod.ts';

export const LIMIT_CENTS = 500_000;
export const MAX_PAYMENTS_PER_MINUTE = 3;

export interface Payment {
  paymentId: string;
  amountCents: number;
  merchant: string;
}

export type Alert = { rule: 'over-limit'; paymentId: string; amountCents: number } | { rule: 'velocity'; windowStartMs: number; payments: number };

function checked(payment: Payment): Payment {
  if (typeof payment !== 'object' || payment === null || typeof payment.paymentId !== 'string') throw new Error('a payment needs a paymentId');
  if (!Number.isInteger(payment.amountCents) || payment.amountCents <= 0) throw new Error(`payment ${payment.paymentId} has no positive amountCents`);
  return payment;
}

export default defineJob({
  applicationId: 'fraud-rule',
  config: { guarantee: 'exactly_once', failures: { deserialization: 'dlq', processing: 'dlq' } },
  topics: [
    { name: 'payments', partitions: 2 },
    { name: 'fraud-alerts', partitions: 2 },
  ],
  topology: (builder) => {
    const payments = builder.stream('payments', { key: stringSerde, value: jsonSerde<Payment>() }).mapValues(checked);
    const alerts = { key: stringSerde, value: jsonSerde<Alert>() };
    payments
      .filter((_card, payment) => payment.amountCents > LIMIT_CENTS)
      .mapValues((payment): Alert => ({ rule: 'over-limit', paymentId: payment.paymentId, amountCents: payment.amountCents }))
      .to('fraud-alerts', alerts);
    payments
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(60_000))
      .count({ name: 'payments-per-minute' })
      .toStream()
      .filter((_window, count) => count > MAX_PAYMENTS_PER_MINUTE)
      .map((window, count): [string, Alert] => [window.key, { rule: 'velocity', windowStartMs: window.window.startMs, payments: count }], alerts)
      .to('fraud-alerts');
  },
});
