/**
 * Order enrichment: each order joined with its customer (a stream–table join) and priced by an
 * asynchronous catalog lookup inside mapValues.
 *
 *   rill run examples/jobs/order-enrichment.ts --bootstrap localhost:9092
 *
 * Inputs: `customers` (key: customer id, value: JSON Customer; a compacted table), `orders` (key:
 * customer id, value: JSON Order). Output `orders-enriched` (key: customer id, value: JSON
 * EnrichedOrder). An order of a customer the table does not hold yet goes out with `customer: null`
 * (leftJoin); an order of an unknown sku fails and goes to the dead-letter topic
 * `order-enrichment-dlq` with the error in its headers.
 *
 * The lookup is asynchronous as a call to a pricing service would be: the runtime keeps the order of
 * records per key while lookups of different keys overlap, and commits only completed records.
 */
import { jsonSerde, stringSerde } from '../../sdk/mod.ts';
import { defineJob } from '../../streams/mod.ts';

export interface Customer {
  name: string;
  tier: 'gold' | 'silver' | 'bronze';
}

export interface Order {
  orderId: string;
  sku: string;
  quantity: number;
}

export interface EnrichedOrder extends Order {
  customer: Customer | null;
  unitPriceCents: number;
  /** Gold customers get 10% off. */
  totalCents: number;
}

/** Where prices come from: replace with a call to your pricing service. */
export type PriceLookup = (sku: string) => Promise<number>;

const CATALOG: Readonly<Record<string, number>> = { 'sku-apple': 120, 'sku-pear': 95, 'sku-melon': 450 };

const catalogPrice: PriceLookup = async (sku) => {
  // Stands in for the network round trip: the price arrives on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const price = CATALOG[sku];
  if (price === undefined) throw new Error(`unknown sku ${sku}`);
  return price;
};

/** The job with a given price lookup (tests and other deployments pass theirs). */
export function orderEnrichment(lookupPrice: PriceLookup) {
  return defineJob({
    applicationId: 'order-enrichment',
    config: { guarantee: 'exactly_once', failures: { processing: 'dlq', deserialization: 'dlq' } },
    topics: [
      { name: 'customers', partitions: 2, configs: { 'cleanup.policy': 'compact' } },
      { name: 'orders', partitions: 2 },
      { name: 'orders-enriched', partitions: 2 },
    ],
    topology: (builder) => {
      const customers = builder.table('customers', { key: stringSerde, value: jsonSerde<Customer>() });
      builder
        .stream('orders', { key: stringSerde, value: jsonSerde<Order>() })
        .leftJoin(customers, (order, customer) => ({ ...order, customer }))
        .mapValues(async (order): Promise<EnrichedOrder> => {
          const unitPriceCents = await lookupPrice(order.sku);
          const gross = unitPriceCents * order.quantity;
          return { ...order, unitPriceCents, totalCents: order.customer?.tier === 'gold' ? Math.round(gross * 0.9) : gross };
        })
        .to('orders-enriched', { value: jsonSerde<EnrichedOrder>() });
    },
  });
}

export default orderEnrichment(catalogPrice);
