"""A consume-transform-produce loop on librdkafka (python3-confluent-kafka), one transaction per
polled batch with the batch's offsets, as bench/streams.ts runs it beside Rill's jobs.

    /usr/bin/python3 bench/peers/confluent-ctp.py <bootstrap> <input> <output> <group> <records>

Prints "done <records>" once it has committed that many input records, then exits.
"""
import sys

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, source, sink, group, records = sys.argv[1:6]
records = int(records)

consumer = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': False,
    'isolation.level': 'read_committed',
})
producer = Producer({
    'bootstrap.servers': bootstrap,
    'transactional.id': f'{group}-tx',
    'linger.ms': 5,
})
producer.init_transactions()
consumer.subscribe([source])
done = 0
while done < records:
    batch = consumer.consume(num_messages=2000, timeout=1.0)
    batch = [m for m in batch if m.error() is None]
    if not batch:
        continue
    producer.begin_transaction()
    for m in batch:
        producer.produce(sink, key=m.key(), value=m.value().upper())
    positions = {}
    for m in batch:
        positions[(m.topic(), m.partition())] = m.offset() + 1
    offsets = [TopicPartition(t, p, o) for (t, p), o in positions.items()]
    producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata())
    producer.commit_transaction()
    done += len(batch)
print(f'done {done}', flush=True)
consumer.close()
