// Output formatting for listing commands: Go-template-like `--format` strings
// (`{{.Repository}}`, `{{json .Config}}`, a leading `table` for aligned columns
// with headers, as the docker CLI does), human sizes and ages.
import { UsageError } from '../errors.js';

const ACTION = /\{\{\s*(json\s+)?(\.[A-Za-z0-9_.]*)\s*\}\}/g;

/** Renders one value with a template. Unknown fields are a usage error naming the known ones. */
export function renderTemplate(template: string, data: Record<string, unknown>): string {
  const text = unescape(template);
  const unsupported = text.replace(ACTION, '').match(/\{\{.*?\}\}/);
  if (unsupported) throw new UsageError(`--format: unsupported template action ${unsupported[0]} (supported: {{.Field}}, {{.A.B}}, {{json .X}})`);
  return text.replace(ACTION, (_m, json: string | undefined, field: string) => {
    const value = lookup(data, field);
    return json ? JSON.stringify(value ?? null) : goString(value);
  });
}

/** `table {{.A}}\t{{.B}}` → header + aligned rows; other templates → one line per item. */
export function renderList(template: string, items: Record<string, unknown>[], headers: Record<string, string>): string {
  const isTable = /^\s*table(\s|$)/.test(template);
  const body = isTable ? template.replace(/^\s*table\s*/, '') : template;
  const lines = items.map((it) => renderTemplate(body, it));
  if (!isTable) return lines.map((l) => `${l}\n`).join('');
  const header = unescape(body).replace(ACTION, (_m, _j: string | undefined, field: string) => headers[field.slice(1)] ?? field.slice(1).toUpperCase());
  return table([header, ...lines].map((l) => l.split('\t')));
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('')}\n`).join('');
}

function unescape(s: string): string {
  return s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function lookup(data: Record<string, unknown>, field: string): unknown {
  if (field === '.') return data;
  let cur: unknown = data;
  for (const part of field.slice(1).split('.')) {
    if (cur === null || typeof cur !== 'object' || !(part in cur)) {
      const known = cur !== null && typeof cur === 'object' ? Object.keys(cur).join(', ') : '';
      throw new UsageError(`--format: no field ${field}${known ? ` (fields: ${known})` : ''}`);
    }
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Values printed the way Go's text/template prints them. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `map[${entries.map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  }
  return String(v);
}

/** Docker's human size: three significant digits, decimal units (5.37MB). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** Parses 10GB, 512m, 1.5GiB, 1024 (binary multiples, as BuildKit's keep-storage). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$/i.exec(text);
  if (!m) throw new UsageError(`invalid size ${JSON.stringify(text)} (examples: 500MB, 10GB, 1048576)`);
  const power = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/** "3 hours ago", as docker prints ages. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const steps: [number, string][] = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month'], [Infinity, 'year']];
  let v = s;
  for (const [div, unit] of steps) {
    if (v < div) {
      const n = Math.max(1, Math.floor(v));
      if (unit === 'second' && n < 2) return 'Less than a second ago';
      return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
    }
    v /= div;
  }
  return 'N/A';
}
