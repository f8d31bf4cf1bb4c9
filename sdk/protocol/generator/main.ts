import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitApiTable, emitIndex, emitModule, emitRegistry, GENERATED_NOTICE, moduleFileName, pairApis } from './emit-files.ts';
import { emitSchemaJson } from './emit-schema.ts';
import { loadMessages } from './schema.ts';

/**
 * Usage: bun sdk/protocol/generator/main.ts <dir with Kafka's *Request.json/*Response.json>
 *
 * Writes one codec module per API into sdk/protocol/messages/, the api-key table, the dispatch
 * registry, and a prose-free schema description for the property tests.
 */

/** Non-API schemas the client and group coordinator need: JoinGroup/SyncGroup metadata payloads. */
const DATA_SCHEMAS = ['ConsumerProtocolSubscription', 'ConsumerProtocolAssignment'];

const messagesDir = process.argv[2];
if (messagesDir === undefined) {
  console.error('usage: bun sdk/protocol/generator/main.ts <messagesDir>');
  process.exit(2);
}

const outDir = join(import.meta.dirname, '..', 'messages');
const schemaOut = join(import.meta.dirname, '..', '..', '..', 'test', 'unit', 'sdk', 'protocol', 'fixtures', 'message-schemas.json');

const messages = loadMessages(messagesDir);
const pairs = pairApis(messages);
const data = DATA_SCHEMAS.map((name) => {
  const spec = messages.find((m) => m.name === name);
  if (spec === undefined) throw new Error(`data schema ${name} not found in ${messagesDir}`);
  return spec;
});

mkdirSync(outDir, { recursive: true });
for (const file of readdirSync(outDir)) {
  if (file.endsWith('.ts') && readFileSync(join(outDir, file), 'utf8').startsWith(GENERATED_NOTICE)) rmSync(join(outDir, file));
}

const modules: string[] = [];
for (const pair of pairs) {
  const file = moduleFileName(pair.name);
  writeFileSync(join(outDir, file), emitModule([pair.request, pair.response]));
  modules.push(file);
}
for (const spec of data) {
  const file = moduleFileName(spec.name);
  writeFileSync(join(outDir, file), emitModule([spec]));
  modules.push(file);
}
writeFileSync(join(outDir, 'api-table.ts'), emitApiTable(pairs));
writeFileSync(join(outDir, 'registry.ts'), emitRegistry(pairs));
writeFileSync(join(outDir, 'index.ts'), emitIndex(modules));
mkdirSync(join(schemaOut, '..'), { recursive: true });
writeFileSync(schemaOut, emitSchemaJson([...pairs.flatMap((p) => [p.request, p.response]), ...data]));
console.log(`wrote ${modules.length} codec modules (${pairs.length} APIs) to ${outDir}`);
