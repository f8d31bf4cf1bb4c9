import type { Processor, ProcessorContext, ProcessorSupplier } from '../topology/processor.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import { type UserResult, withResult } from './user-result.ts';

/**
 * A processor built from one function of the record: `step` gets the context and the record and
 * returns what `process` returns. Every stateless DSL operator is one of these.
 */
function stepProcessor<K, V, KR, VR>(step: (ctx: ProcessorContext<KR, VR>, record: StreamRecord<K, V>) => ReturnType<Processor<K, V>['process']>): ProcessorSupplier<K, V, KR, VR> {
  return () => {
    let ctx: ProcessorContext<KR, VR>;
    return {
      init: (context) => void (ctx = context),
      process: (record) => step(ctx, record),
    };
  };
}

export function filterProcessor<K, V>(predicate: (key: K, value: V) => UserResult<boolean>, keep: boolean): ProcessorSupplier<K, V, K, V> {
  return stepProcessor((ctx, record) =>
    withResult(predicate(record.key, record.value), (pass) => {
      if (pass === keep) ctx.forward(record);
    }),
  );
}

export function mapValuesProcessor<K, V, VR>(mapper: (value: V, key: K) => UserResult<VR>): ProcessorSupplier<K, V, K, VR> {
  return stepProcessor((ctx, record) => withResult(mapper(record.value, record.key), (value) => ctx.forward(record.withValue(value))));
}

export function mapProcessor<K, V, KR, VR>(mapper: (key: K, value: V) => UserResult<readonly [KR, VR]>): ProcessorSupplier<K, V, KR, VR> {
  return stepProcessor((ctx, record) => withResult(mapper(record.key, record.value), ([key, value]) => ctx.forward(record.with(key, value))));
}

export function selectKeyProcessor<K, V, KR>(selector: (key: K, value: V) => UserResult<KR>): ProcessorSupplier<K, V, KR, V> {
  return stepProcessor((ctx, record) => withResult(selector(record.key, record.value), (key) => ctx.forward(record.withKey(key))));
}

export function flatMapProcessor<K, V, KR, VR>(mapper: (key: K, value: V) => UserResult<Iterable<readonly [KR, VR]>>): ProcessorSupplier<K, V, KR, VR> {
  return stepProcessor((ctx, record) =>
    withResult(mapper(record.key, record.value), (pairs) => {
      for (const [key, value] of pairs) ctx.forward(record.with(key, value));
    }),
  );
}

export function flatMapValuesProcessor<K, V, VR>(mapper: (value: V, key: K) => UserResult<Iterable<VR>>): ProcessorSupplier<K, V, K, VR> {
  return stepProcessor((ctx, record) =>
    withResult(mapper(record.value, record.key), (values) => {
      for (const value of values) ctx.forward(record.withValue(value));
    }),
  );
}

/** peek forwards the record unchanged once `action` is done; foreach (`forward` false) ends the branch. */
export function peekProcessor<K, V>(action: (key: K, value: V) => UserResult<void>, forward: boolean): ProcessorSupplier<K, V, K, V> {
  return stepProcessor((ctx, record) =>
    withResult(action(record.key, record.value), () => {
      if (forward) ctx.forward(record);
    }),
  );
}

/** Forwards every record to its children; merge and repartition sources use it. */
export function passThroughProcessor<K, V>(): ProcessorSupplier<K, V, K, V> {
  return stepProcessor((ctx, record) => ctx.forward(record));
}

/**
 * split(): each record goes to the first branch whose predicate holds (predicates run in order,
 * each awaited when asynchronous), else to the default branch if there is one.
 */
export function branchProcessor<K, V>(branches: readonly { child: string; predicate: ((key: K, value: V) => UserResult<boolean>) | undefined }[]): ProcessorSupplier<K, V, K, V> {
  return stepProcessor((ctx, record) => {
    const tryFrom = (index: number): ReturnType<Processor<K, V>['process']> => {
      const branch = branches[index];
      if (branch === undefined) return undefined;
      if (branch.predicate === undefined) {
        ctx.forward(record, branch.child);
        return undefined;
      }
      let next: ReturnType<Processor<K, V>['process']> = undefined;
      const settled = withResult(branch.predicate(record.key, record.value), (pass) => {
        if (pass) ctx.forward(record, branch.child);
        else next = tryFrom(index + 1);
      });
      return settled === undefined ? next : settled.then(() => next);
    };
    return tryFrom(0);
  });
}
