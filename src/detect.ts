/**
 * In-process file type detection: a handler is chosen when the path matches its name
 * pattern and the first bytes match its magic (what Perl asks file(1)). No process is spawned.
 */
import type { Handler } from './handler.js';
import { HANDLERS } from './registry.js';

export interface Detection {
  handler: Handler;
  /** False when the matching normalizer is disabled: Perl then skips the file. */
  enabled: boolean;
}

export function detect(path: string, head: Buffer, size: number, enabled: ReadonlySet<string>, handlers: readonly Handler[] = HANDLERS): Detection | undefined {
  for (const handler of handlers) {
    if (handler.matchName(path) && handler.detect(head, size, path)) {
      return { handler, enabled: enabled.has(handler.name) };
    }
  }
  return undefined;
}
