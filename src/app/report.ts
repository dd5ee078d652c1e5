/**
 * What a run reports: the per-file entries of --json (and of the library API), the summary
 * counts, and the JSON document. Nothing here prints.
 */
import type { FileReport, RunOptions } from './pipeline.js';
import { VERSION } from './version.js';

export interface Summary {
  scanned: number;
  handled: number;
  changed: number;
  unchanged: number;
  warnings: number;
  errors: number;
  seconds: number;
}

/** One file's entry, as --json writes it. */
export interface FileEntry {
  path: string;
  handler: string | null;
  changed: boolean;
  skipped: FileReport['skipped'] | null;
  linkOf: string | null;
  warnings: string[];
  error: string | null;
}

export function summarize(reports: readonly FileReport[], seconds: number): Summary {
  const handled = reports.filter((r) => r.handler && !r.skipped && r.error === undefined);
  return {
    scanned: reports.length,
    handled: handled.length,
    changed: handled.filter((r) => r.changed).length,
    unchanged: handled.filter((r) => !r.changed).length,
    warnings: reports.reduce((n, r) => n + r.warnings.length, 0),
    errors: reports.filter((r) => r.error !== undefined).length,
    seconds,
  };
}

export function toEntry(r: FileReport): FileEntry {
  return {
    path: r.path,
    handler: r.handler ?? null,
    changed: r.changed,
    skipped: r.skipped ?? null,
    linkOf: r.linkOf ?? null,
    warnings: r.warnings,
    error: r.error ?? null,
  };
}

export function jsonReport(reports: readonly FileReport[], summary: Summary, options: RunOptions): string {
  const document = { tool: 'strip-nondeterminism-node', version: VERSION, timestamp: options.timestamp ?? null, check: options.check === true, files: reports.map(toEntry), summary };
  return JSON.stringify(document, null, 2);
}
