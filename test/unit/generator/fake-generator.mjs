#!/usr/bin/env node
// Speaks the generator protocol for tests: `echo` answers its params, `fail` an error, `slow`
// never, `exit` ends the process; everything else is BAD_REQUEST.
import { createInterface } from 'node:readline';
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, method, params } = JSON.parse(line);
  const send = (m) => process.stdout.write(JSON.stringify({ id, ...m }) + '\n');
  if (method === 'echo') send({ result: params });
  else if (method === 'fail') send({ error: { code: 'INTERNAL', message: 'istio panicked: boom' } });
  else if (method === 'slow') return;
  else if (method === 'exit') { process.stderr.write('fatal: going away\n'); process.exit(3); }
  else send({ error: { code: 'BAD_REQUEST', message: `unknown method ${method}` } });
});
