// Signs one HTTP request with the npm package http-message-signatures (an RFC 9421 implementation that is not
// ours), for the interoperability test. Reads JSON from stdin:
//   { "method": "POST", "url": "http://127.0.0.1:1234/v1/me", "body": "..." | null, "keyId": "pk_...", "secret": "sk_...", "label": "sig" }
// Writes JSON to stdout: the headers to send ({ "content-digest": ..., "signature-input": ..., "signature": ... }).
import { createHash, randomBytes } from 'node:crypto';
import { httpbis, createSigner } from 'http-message-signatures';

const input = JSON.parse(await new Promise((resolve) => {
  let data = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => { data += chunk; });
  process.stdin.on('end', () => resolve(data));
}));

const headers = {};
const fields = ['@method', '@request-target'];
if (input.body !== null && input.body !== undefined) {
  // RFC 9530 Content-Digest: the library covers the header, we compute it.
  headers['content-digest'] = `sha-256=:${createHash('sha256').update(Buffer.from(input.body, 'utf8')).digest('base64')}:`;
  headers['content-type'] = 'application/json';
  fields.push('content-digest');
}

const signed = await httpbis.signMessage({
  key: createSigner(input.secret, 'hmac-sha256', input.keyId),
  name: input.label ?? 'sig',
  fields,
  params: ['created', 'keyid', 'nonce', 'alg'],
  paramValues: { nonce: randomBytes(16).toString('base64url') },
}, { method: input.method, url: input.url, headers });

process.stdout.write(JSON.stringify(signed.headers));
