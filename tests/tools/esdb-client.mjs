// Drives the official EventStoreDB Node client (@eventstore/db-client) against a server, for
// Steller.EventStoreDb.Tests (OfficialClientTests): appends to one new stream, prints one JSON line of what it saw.
//   node esdb-client.mjs <connection string> <stream> <metadata JSON>
import { EventStoreDBClient, jsonEvent, NO_STREAM, WrongExpectedVersionError } from "@eventstore/db-client";
import { randomUUID } from "node:crypto";

const [connection, stream, metadataJson] = process.argv.slice(2);
const metadata = JSON.parse(metadataJson);
const client = EventStoreDBClient.connectionString(connection);
const event = (n) => jsonEvent({ id: randomUUID(), type: "test.happened.v1", data: { n }, metadata });
const text = (r) => ({ next: String(r.nextExpectedRevision), commit: String(r.position?.commit), prepare: String(r.position?.prepare) });
const out = {};
try {
  const first = [event(1)];
  out.first = text(await client.appendToStream(stream, first, { expectedRevision: NO_STREAM }));
  const second = [event(2), event(3)];
  out.second = text(await client.appendToStream(stream, second, { expectedRevision: 0n }));
  // The same batch again at the revision it was written at: the original result.
  out.retry = text(await client.appendToStream(stream, second, { expectedRevision: 0n }));
  try {
    await client.appendToStream(stream, [event(4)], { expectedRevision: 7n });
    out.wrong = "appended";
  } catch (e) {
    out.wrong = e instanceof WrongExpectedVersionError
      ? { actual: String(e.actualVersion), expected: String(e.expectedVersion) }
      : `${e.constructor.name}: ${e.message}`;
  }
  out.ids = [...first, ...second].map((e) => e.id);
} catch (e) {
  out.error = `${e.constructor.name}: ${e.message}`;
} finally {
  await client.dispose();
}
console.log(JSON.stringify(out));
