/**
 * In-process file type detection: a handler is chosen when the path matches its name
 * pattern and the first bytes match its magic (what Perl asks file(1)). No process is spawned.
 */
import type { Handler } from '../kit/handler.js';
import type { Source } from '../kit/io.js';
import { handlers as registered } from './registry.js';

export interface Detection {
  handler: Handler;
  /** False when the matching normalizer is disabled: Perl then skips the file. */
  enabled: boolean;
}

export async function detect(path: string, src: Source & { head: Buffer }, enabled: ReadonlySet<string>, handlers: readonly Handler[] = registered()): Promise<Detection | undefined> {
  let disabled: Handler | undefined;
  for (const handler of handlers) {
    // A disabled format the Perl tool does not know (tar, deb) steps aside, so the file gets
    // Perl's treatment: a .tar.gz is then a gzip file, as in the Perl tool and its dh helper.
    if (handler.beyondPerl && !enabled.has(handler.name)) continue;
    // Once a disabled Perl format matched, only an enabled format of ours may still take the file
    // (a static library whose ar normalizer is off still has ELF members for elf).
    if (disabled && !(handler.beyondPerl && enabled.has(handler.name))) continue;
    if (handler.matchName(path) && handler.detect(src.head, src.size, path) && (!handler.refine || (await handler.refine(src)))) {
      if (enabled.has(handler.name)) return { handler, enabled: true };
      disabled ??= handler;
    }
  }
  return disabled && { handler: disabled, enabled: false };
}
