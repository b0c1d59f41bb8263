// Verifies webhook deliveries with the npm package standardwebhooks (the Standard Webhooks reference library, not ours),
// for the interoperability test. Reads JSON from stdin:
//   { "secrets": ["whsec_...", ...], "deliveries": [{ "headers": { "webhook-id": ..., "webhook-timestamp": ..., "webhook-signature": ... }, "body": "..." }] }
// Writes JSON to stdout: one entry per delivery, { "verifiedBy": [indexes of the secrets that verify it], "type": payload.type | null, "error": ... }.
import { Webhook } from 'standardwebhooks';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
}));

const results = input.deliveries.map((delivery) => {
  const verifiedBy = [];
  let type = null;
  let error = null;
  input.secrets.forEach((secret, index) => {
    try {
      const payload = new Webhook(secret).verify(delivery.body, delivery.headers);
      verifiedBy.push(index);
      type = payload.type;
    } catch (e) {
      error = String(e.message ?? e);
    }
  });
  return { verifiedBy, type, error: verifiedBy.length ? null : error };
});
process.stdout.write(JSON.stringify(results));
