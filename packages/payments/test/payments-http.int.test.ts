// Goal: the payments server keeps money and payment state in step over real HTTP. Method: the
// simulated PSP and the server run as child processes on loopback; PSP rules script declines,
// timeouts, duplicate and reordered webhooks; the tests act as clients, as the PSP, and as a
// webhook endpoint, and read balances back through the API.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../src/index.js';
import { signPspPayload } from '../src/internals.js';
import * as h from './harness.js';

let psp: h.Process;
let server: h.Process;
let api: string;

const rules = [
  {
    match: { operation: 'authorize', reference: 'dup-*' },
    action: 'succeed',
    webhooks: 'duplicate',
  },
  {
    match: { operation: 'authorize', reference: 'ooo-*' },
    action: 'succeed',
    webhooks: 'out_of_order',
  },
  {
    match: { operation: 'authorize', reference: 'late-*' },
    action: 'success_after_timeout',
    delayMs: 900,
  },
  {
    match: { operation: 'authorize', reference: 'hang-*' },
    action: 'timeout',
    delayMs: 600,
    times: 1,
  },
  { match: { operation: 'authorize', reference: 'dec-*' }, action: 'decline' },
  {
    match: { operation: 'capture', reference: 'part-*' },
    action: 'partial_capture',
    capturePercent: 40,
  },
  { match: { operation: 'payout', reference: 'pf-*' }, action: 'fail' },
] as const;

beforeAll(async () => {
  const dir = await h.tempDir('http');
  const port = await h.freePort();
  psp = await h.startPsp({ webhookUrl: `http://127.0.0.1:${port}/v1/webhooks/psp/simpsp`, dir });
  await h.setRules(psp.url, rules);
  server = await h.startServer({ dir, port, pspUrl: psp.url });
  api = server.url;
});

afterAll(async () => {
  try {
    expect(await server?.stop('SIGTERM')).toBe(0); // drains and exits cleanly
    await psp?.stop();
  } finally {
    await h.killChildren(); // whatever happened above, no process outlives the file
  }
});

const payment = (id: string) => h.call(`${api}/v1/payments/${id}`);
const balance = async (seller: string) =>
  (await h.call(`${api}/v1/wallet/${seller}/balance?currency=USD`)).body;
const settled = (id: string) =>
  h.eventually(
    () => payment(id),
    (reply) =>
      reply.body['ledger_synced'] === true &&
      reply.body['status'] !== 'EXECUTING' &&
      reply.body['status'] !== 'NOT_STARTED',
  );

describe('pay-in over HTTP', () => {
  it('moves money once for a double click with one Idempotency-Key, and replays the response', async () => {
    const body = h.checkout('dbl', [
      ['dbl-1', 'seller-a', '75.00'],
      ['dbl-2', 'seller-b', '25.00'],
    ]);
    const headers = { 'idempotency-key': 'click-1' };
    const [first, second] = await Promise.all([
      h.call(`${api}/v1/payments`, { body, headers }),
      h.call(`${api}/v1/payments`, { body, headers }),
    ]);
    const statuses = [first.status, second.status].sort();
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual(statuses);
    const again = await h.call(`${api}/v1/payments`, { body, headers });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.status === 201 ? first.body : second.body);
    // The stored first response may say EXECUTING (a slow PSP on a busy machine): it settles.
    expect((await settled('dbl')).body['status']).toBe('SUCCESS');
    // A click without the key, same checkout: the same payment, not a second one.
    expect((await h.call(`${api}/v1/payments`, { body })).body['checkout_id']).toBe('dbl');
    expect(await balance('seller-a')).toMatchObject({ balance: '73.50', pending_in: '0.00' });
    expect(await balance('seller-b')).toMatchObject({ balance: '24.50' });
    const counts = await h.pspCounts(psp.url);
    expect([counts['authorize:dbl-1'], counts['capture:dbl-1']]).toEqual([1, 1]);
  });

  it('refuses an Idempotency-Key reused with other parameters, and writes nothing', async () => {
    const headers = { 'idempotency-key': 'reuse-1' };
    const first = await h.call(`${api}/v1/payments`, {
      body: h.checkout('ru-1', [['ru-1a', 'seller-r', '5.00']]),
      headers,
    });
    expect(first.status).toBe(201);
    const other = await h.call(`${api}/v1/payments`, {
      body: h.checkout('ru-2', [['ru-2a', 'seller-r', '5.00']]),
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect((await payment('ru-2')).status).toBe(404);
    const long = await h.call(`${api}/v1/payments`, {
      body: h.checkout('ru-3', [['ru-3a', 'seller-r', '5.00']]),
      headers: { 'idempotency-key': 'k'.repeat(256) },
    });
    expect(long.body).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_INVALID' } });
    expect((await payment('ru-3')).status).toBe(404);
  });

  it('absorbs duplicate and out-of-order webhooks', async () => {
    for (const id of ['dup', 'ooo']) {
      const reply = await h.call(`${api}/v1/payments`, {
        body: h.checkout(id, [[`${id}-1`, `seller-${id}`, '10.00']]),
      });
      expect(reply.status).toBe(201);
      expect((await settled(id)).body['status']).toBe('SUCCESS');
    }
    // The PSP's late `authorized` for ooo-1 came after `captured`: the order stays captured.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ooo = await payment('ooo');
    expect(ooo.body['payment_orders']).toMatchObject([
      { status: 'captured', captured_amount: '10.00' },
    ]);
    expect(await balance('seller-dup')).toMatchObject({ balance: '9.80', pending_in: '0.00' });
    expect(await balance('seller-ooo')).toMatchObject({ balance: '9.80', pending_in: '0.00' });
  });

  it('applies a replayed webhook once and refuses bad signatures and stale timestamps', async () => {
    await h.call(`${api}/v1/payments`, {
      body: h.checkout('wh', [['wh-1', 'seller-wh', '10.00']], { capture_method: 'manual' }),
    });
    const ref = ((await payment('wh')).body['payment_orders'] as { psp_reference: string }[])[0]!
      .psp_reference;
    const body = JSON.stringify({
      id: 'evt_test_1',
      type: 'payment.captured',
      data: { reference: 'wh-1', psp_reference: ref, captured_amount: '1000' },
    });
    const now = Math.floor(Date.now() / 1000);
    const sign = (timestampS: number, secret = h.webhookSecret) => ({
      'psp-signature': signPspPayload({ secret, timestampS, body }),
    });
    const url = `${api}/v1/webhooks/psp/simpsp`;
    expect((await h.call(url, { raw: body, headers: sign(now, 'wrong-secret') })).status).toBe(401);
    expect((await h.call(url, { raw: body, headers: sign(now - 3600) })).body).toMatchObject({
      error: { code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE' },
    });
    expect((await h.call(url, { raw: body, headers: { 'psp-signature': 'garbage' } })).status).toBe(
      401,
    );
    expect((await payment('wh')).body['status']).toBe('EXECUTING');
    expect(await balance('seller-wh')).toMatchObject({ balance: '0.00', pending_in: '9.80' });
    for (let n = 0; n < 3; n += 1) {
      expect((await h.call(url, { raw: body, headers: sign(now) })).status).toBe(200);
    }
    expect((await payment('wh')).body['status']).toBe('SUCCESS');
    expect(await balance('seller-wh')).toMatchObject({ balance: '9.80', pending_in: '0.00' });
  });

  it('finishes a payment whose PSP answered after the client timed out, or not at all the first time', async () => {
    for (const id of ['late', 'hang']) {
      const reply = await h.call(`${api}/v1/payments`, {
        body: h.checkout(id, [[`${id}-1`, `seller-${id}`, '20.00']]),
      });
      expect(reply.status).toBe(201);
      expect(reply.body['status']).toBe('EXECUTING'); // the PSP did not answer in time
      expect((await settled(id)).body['status']).toBe('SUCCESS');
      expect(await balance(`seller-${id}`)).toMatchObject({ balance: '19.60', pending_in: '0.00' });
    }
    const counts = await h.pspCounts(psp.url);
    expect([counts['authorize:late-1'], counts['authorize:hang-1']]).toEqual([1, 1]);
  });

  it('fails a payment whose order is declined and releases every hold', async () => {
    const reply = await h.call(`${api}/v1/payments`, {
      body: h.checkout('dec', [
        ['ok-dec', 'seller-d1', '30.00'],
        ['dec-1', 'seller-d2', '5.00'],
      ]),
    });
    expect(reply.body).toMatchObject({ status: 'FAILED', failure_reason: 'card_declined' });
    expect(await balance('seller-d1')).toMatchObject({ balance: '0.00', pending_in: '0.00' });
    await h.eventually(
      () => payment('dec'),
      (r) => (r.body['payment_orders'] as { status: string }[])[0]!.status === 'voided',
    );
  });

  it('posts a partial capture and refunds a payment', async () => {
    const reply = await h.call(`${api}/v1/payments`, {
      body: h.checkout('part', [['part-1', 'seller-p', '50.00']]),
    });
    expect(reply.body).toMatchObject({
      status: 'SUCCESS',
      payment_orders: [{ captured_amount: '20.00' }],
    });
    expect(await balance('seller-p')).toMatchObject({ balance: '19.60', pending_in: '0.00' });
    const refund = await h.call(`${api}/v1/payments/part/refund`, {
      method: 'POST',
      headers: { 'idempotency-key': 'refund-part' },
    });
    expect(refund.body['status']).toBe('REFUNDED');
    expect(await balance('seller-p')).toMatchObject({ balance: '0.00' });
    const date = new Date().toISOString().slice(0, 10);
    const { csv } = (await h.call(`${psp.url}/v1/settlements/${date}`)).body as { csv: string };
    expect(csv.split('\n')[0]).toBe(
      'record_id,type,payment_order_id,psp_reference,currency,gross,fee,net,settled_at',
    );
    expect(csv).toMatch(
      /,capture,part-1,auth_\d+,USD,20\.00,0\.58,19\.42,\d{4}-\d\d-\d\dT[\d:.]+Z\n/,
    );
    expect(csv).toMatch(/,refund,part-1,auth_\d+,USD,-20\.00,0\.00,-20\.00,/);
  });
});

describe('answers bad input with a typed 400 and writes nothing', () => {
  it.each([
    ['malformed JSON', '{"checkout_id": "bad-1",', 400, 'INVALID_REQUEST'],
    [
      'a number amount',
      JSON.stringify(h.checkout('bad-2', [['bad-2a', 's', '1.00']])).replace('"1.00"', '1'),
      400,
      'INVALID_REQUEST',
    ],
    [
      'an unknown field',
      JSON.stringify({ ...h.checkout('bad-3', [['bad-3a', 's', '1.00']]), extra: 1 }),
      400,
      'INVALID_REQUEST',
    ],
    [
      'too many decimals',
      JSON.stringify(h.checkout('bad-4', [['bad-4a', 's', '1.001']])),
      400,
      'INVALID_AMOUNT',
    ],
    [
      'a zero amount',
      JSON.stringify(h.checkout('bad-5', [['bad-5a', 's', '0.00']])),
      400,
      'INVALID_AMOUNT',
    ],
    [
      'a huge body',
      JSON.stringify({
        ...h.checkout('bad-6', [['bad-6a', 's', '1.00']]),
        pad: 'x'.repeat(100_000),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
  ])('%s', async (_name, raw, status, code) => {
    const reply = await h.call(`${api}/v1/payments`, { raw });
    expect(reply.status).toBe(status);
    expect(reply.body).toMatchObject({ error: { code } });
    const id = /bad-\d/.exec(raw)?.[0] ?? 'bad-1';
    expect((await payment(id)).status).toBe(404);
  });

  it('refuses a malformed balance transfer and moves money once per transaction_id', async () => {
    const url = `${api}/v1/wallet/balance_transfer`;
    const body = {
      from_account: 'seller-a',
      to_account: 'seller-z',
      amount: '1.50',
      currency: 'USD',
      transaction_id: 'tx-1',
    };
    expect((await h.call(url, { body: { ...body, amount: 1.5 } })).status).toBe(400);
    expect((await h.call(`${api}/v1/wallet/seller-z/balance?currency=USD`)).status).toBe(404);
    expect((await h.call(url, { body })).body).toMatchObject({ status: 'ok' });
    expect((await h.call(url, { body })).body).toMatchObject({ status: 'exists' });
    expect(await balance('seller-z')).toMatchObject({ balance: '1.50' });
    const tooMuch = await h.call(url, {
      body: { ...body, amount: '999.00', transaction_id: 'tx-2' },
    });
    expect(tooMuch.body).toMatchObject({
      error: { code: 'TRANSFER_REJECTED', detail: { status: 'insufficient_funds' } },
    });
  });
});

describe('pay-outs and webhooks out', () => {
  it('pays a seller out, and gives the money back when the pay-out fails', async () => {
    await h.call(`${api}/v1/payments`, {
      body: h.checkout('po', [['po-1', 'seller-po', '100.00']]),
    });
    const paid = {
      payout_id: 'pay-1',
      seller_account: 'seller-po',
      amount: '50.00',
      currency: 'USD',
      destination: 'bank:123',
    };
    expect((await h.call(`${api}/v1/payouts`, { body: paid })).status).toBe(201);
    await h.eventually(
      () => h.call(`${api}/v1/payouts/pay-1`),
      (r) => r.body['status'] === 'SUCCESS' && r.body['ledger_synced'] === true,
    );
    expect(await balance('seller-po')).toMatchObject({ balance: '47.00', pending_out: '0.00' });
    await h.call(`${api}/v1/payouts`, { body: { ...paid, payout_id: 'pf-1' } });
    await h.eventually(
      () => h.call(`${api}/v1/payouts/pf-1`),
      (r) => r.body['status'] === 'FAILED' && r.body['ledger_synced'] === true,
    );
    expect(await balance('seller-po')).toMatchObject({ balance: '47.00', pending_out: '0.00' });
  });

  it('delivers signed events, parks a refused one in the dead-letter queue, and replays it', async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    let status = 200;
    const sink: Server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const port = (sink.address() as { port: number }).port;
    const endpoint = await h.call(`${api}/v1/webhook-endpoints`, {
      body: { url: `http://127.0.0.1:${port}/hook`, event_types: ['payment.success'] },
    });
    const secret = (endpoint.body['secrets'] as string[])[0]!;
    await h.call(`${api}/v1/payments`, {
      body: h.checkout('out-1', [['out-1a', 'seller-o', '1.00']]),
    });
    await h.eventually(
      async () => received.length,
      (n) => n >= 1,
    );
    const first = received[0]!;
    expect(JSON.parse(first.body)).toMatchObject({
      type: 'payment.success',
      data: { checkout_id: 'out-1' },
    });
    expect(
      verifyStandardWebhook({
        headers: first.headers as Record<string, string>,
        body: first.body,
        secret,
      }),
    ).toBe(true);
    status = 400; // terminal: straight to the dead-letter queue
    await h.call(`${api}/v1/payments`, {
      body: h.checkout('out-2', [['out-2a', 'seller-o', '1.00']]),
    });
    const dead = await h.eventually(
      () => h.call(`${api}/v1/webhook-deliveries?state=dead`),
      (r) => (r.body['deliveries'] as unknown[]).length === 1,
    );
    const delivery = (dead.body['deliveries'] as { id: number; attempts: number }[])[0]!;
    expect(delivery.attempts).toBe(1);
    status = 200;
    await h.call(`${api}/v1/webhook-deliveries/${delivery.id}/replay`, { method: 'POST' });
    await h.eventually(
      async () => received.length,
      (n) => n >= 3,
    );
    const log = await h.call(`${api}/v1/webhook-deliveries/${delivery.id}/attempts`);
    expect((log.body['attempts'] as { status_code: number }[]).map((a) => a.status_code)).toEqual([
      400, 200,
    ]);
    sink.close();
  });

  it('publishes an OpenAPI document built from the route schemas', async () => {
    const doc = (await h.call(`${api}/openapi.json`)).body as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/payments',
        '/v1/payments/{checkout_id}',
        '/v1/wallet/balance_transfer',
        '/v1/webhooks/psp/{connector}',
        '/v1/payouts',
      ]),
    );
  });
});
