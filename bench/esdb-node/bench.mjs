// The official EventStoreDB Node client (@eventstore/db-client, pinned in package.json) doing the appends Steller's
// adapter does in bench/esdb.sh: sequential single-event appends, sequential batches, and N concurrent writers
// (each its own stream, single-event appends), with the payloads the .NET side wrote to --payloads.
//
//   node bench.mjs --connection 'esdb://127.0.0.1:2113?tls=false' --payloads payloads.json [--seconds 5]
//                  [--warmup-seconds 1] [--batch 100] [--writers 8]
//
// Without --connection it reads STELLER_ESDB_CONNECTION; with neither it says so and exits 0 (nothing measured).
// The last line of stdout is one JSON object with the results; progress goes to stderr.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const connection = args.connection || process.env.STELLER_ESDB_CONNECTION || "";
if (!connection) {
  console.error("bench-esdb-node: no EventStoreDB server set (pass --connection or set STELLER_ESDB_CONNECTION); nothing measured.");
  console.log(JSON.stringify({ skipped: "no EventStoreDB server set" }));
  process.exit(0);
}
if (!args.payloads) {
  console.error("bench-esdb-node: --payloads <file> is required (bench/esdb.sh writes it)");
  process.exit(2);
}
const seconds = Number(args.seconds ?? 5);
const warmupSeconds = Number(args["warmup-seconds"] ?? 1);
const batchSize = Number(args.batch ?? 100);
const writers = Number(args.writers ?? 8);

const require = createRequire(import.meta.url);
const version = require("@eventstore/db-client/package.json").version;
const { EventStoreDBClient, jsonEvent, ANY } = await import("@eventstore/db-client");

// [{ type, data, metadata }] with data and metadata as JSON text: the same events the adapter sends.
const templates = JSON.parse(readFileSync(args.payloads, "utf8")).map((t) => ({
  type: t.type,
  data: JSON.parse(t.data),
  metadata: JSON.parse(t.metadata),
}));
let next = 0;
const event = () => {
  const t = templates[next++ % templates.length];
  return jsonEvent({ id: randomUUID(), type: t.type, data: t.data, metadata: t.metadata });
};

const client = EventStoreDBClient.connectionString(connection);

/** Runs `writerCount` loops of `appendOnce(writer)` for `duration` seconds; returns events and appends done. */
async function run(writerCount, duration, appendOnce) {
  const until = performance.now() + duration * 1000;
  let events = 0;
  let appends = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writerCount }, async (_, w) => {
      while (performance.now() < until) {
        events += await appendOnce(w);
        appends++;
      }
    }),
  );
  return { events, appends, seconds: (performance.now() - started) / 1000 };
}

const cases = {
  single: { writers: 1, append: (stream) => async () => (await client.appendToStream(stream, [event()], { expectedRevision: ANY }), 1) },
  batch: {
    writers: 1,
    append: (stream) => async () => {
      const batch = Array.from({ length: batchSize }, event);
      await client.appendToStream(stream, batch, { expectedRevision: ANY });
      return batchSize;
    },
  },
  writers: {
    writers,
    append: (stream) => async (w) => (await client.appendToStream(`${stream}-${w}`, [event()], { expectedRevision: ANY }), 1),
  },
};

const results = [];
try {
  for (const [name, c] of Object.entries(cases)) {
    const stream = `bench-esdb-node-${name}-${randomUUID().replaceAll("-", "")}`;
    const append = c.append(stream);
    await run(c.writers, warmupSeconds, append);
    const r = await run(c.writers, seconds, append);
    console.error(`bench-esdb-node: ${name}: ${Math.round(r.events / r.seconds)} events/s (${r.appends} appends)`);
    results.push({ case: name, ...r });
  }
} catch (e) {
  console.error(`bench-esdb-node: failed: ${e?.message ?? e}`);
  console.log(JSON.stringify({ error: String(e?.message ?? e) }));
  process.exit(1);
} finally {
  await client.dispose();
}
console.log(JSON.stringify({ client: `@eventstore/db-client ${version}`, results }));
