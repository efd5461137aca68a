// The instrument table of docs/metrics.md against the instruments the code creates (name, unit),
// and the meter's version against the package's: read both files, compare.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { instruments, meterName, meterVersion } from '../src/metrics-otel.js';

const root = new URL('../../../', import.meta.url);

describe('metrics docs and meter identity', () => {
  it('lists every instrument with its unit in docs/metrics.md, and no other', () => {
    const page = readFileSync(new URL('docs/metrics.md', root), 'utf8');
    const rows = [...page.matchAll(/^\| `(shardledger\.[a-z_.]+)` \| [a-z]+ \| `([^`]+)` \|/gm)];
    const documented = rows.map((row) => `${row[1]} ${row[2]}`).sort();
    const created = Object.values(instruments)
      .map((instrument) => `${instrument.name} ${instrument.unit}`)
      .sort();
    expect(documented).toEqual(created);
  });

  it('names the meter after the package, with its version', () => {
    const manifest = JSON.parse(
      readFileSync(new URL('packages/shard-router/package.json', root), 'utf8'),
    ) as { name: string; version: string };
    expect(meterName).toBe(manifest.name);
    expect(meterVersion).toBe(manifest.version);
  });
});
