#!/usr/bin/env node
// Starts the simulated PSP in its own process:
//   node packages/payments/dist/psp/sim-main.js --port 4100 --seed 7 \
//     --webhook-url http://127.0.0.1:3000/v1/webhooks/psp/simpsp --webhook-secret s3cret \
//     --settlement-dir ./settlements [--rules rules.json] [--fee-bps 290]
// It prints one JSON line, {"port":N}, once it listens, and stops on SIGTERM or SIGINT.
import { mkdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SimulatedPsp } from './simulator.js';
import type { SimRule } from './sim-rules.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    rules: { type: 'string' },
    'webhook-url': { type: 'string' },
    'webhook-secret': { type: 'string' },
    'settlement-dir': { type: 'string', default: './settlements' },
    'fee-bps': { type: 'string', default: '290' },
  },
});
const webhookUrl = values['webhook-url'];
const webhookSecret = values['webhook-secret'];
if (webhookUrl === undefined || webhookSecret === undefined) {
  process.stderr.write('psp-sim: --webhook-url and --webhook-secret are required\n');
  process.exit(2);
}
const rules =
  values.rules === undefined
    ? []
    : (JSON.parse(readFileSync(values.rules, 'utf8')) as { rules: SimRule[] }).rules;
mkdirSync(values['settlement-dir'], { recursive: true });
const psp = new SimulatedPsp({
  port: Number.parseInt(values.port, 10),
  seed: Number.parseInt(values.seed, 10),
  rules,
  webhookUrl,
  webhookSecret,
  settlementDir: values['settlement-dir'],
  feeBps: Number.parseInt(values['fee-bps'], 10),
});
const port = await psp.listen();
process.stdout.write(`${JSON.stringify({ port })}\n`);
// A simulator may hold calls open for minutes (timeout rules): stopping ends them.
const stop = () => void psp.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
