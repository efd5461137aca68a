// Number formats shared by the report's sections.

export function formatTps(tps: number | null): string {
  return tps === null ? '-' : Math.round(tps).toLocaleString('en-US');
}

export function formatMs(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return '-';
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

export function formatRatio(ratio: number | null): string {
  if (ratio === null) return '-';
  if (ratio >= 10) return `${ratio.toFixed(0)}x`;
  return ratio >= 0.1 ? `${ratio.toFixed(2)}x` : `${ratio.toPrecision(2)}x`;
}

export function formatPercent(value: number): string {
  return `${value.toFixed(1)}%`;
}
