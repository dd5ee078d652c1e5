/**
 * The member dispatcher: the one way into nested members. It builds the HandlerContext every
 * handler gets; ctx.member() picks a member's handler from the registry by detection (or takes
 * the one the container names), runs it one level deeper, and turns a member's FormatError into
 * a warning naming it (or lets it fail the container, when the container asks). The nesting
 * depth is bounded here, once, for every container.
 */
import type { Handler, HandlerContext, MemberHooks, MemberOptions, MemberResult } from '../kit/handler.js';
import { LimitError } from '../kit/handler.js';
import { HEAD_SIZE, type Sink, type Source } from '../kit/io.js';
import { memberLimit, type NormalizeOptions } from '../kit/options.js';
import { FormatError } from '../kit/errors.js';
import { detect } from './detect.js';
import { handlerByName, handlers, isBuiltIn, registeredCount } from './registry.js';

/** The default member options: every enabled normalizer may take the member. */
const ANY: MemberOptions = {};

/** Containers nested deeper than this are refused (a nested-jar bomb), unless options say. */
export const DEFAULT_MAX_DEPTH = 32;

/** Where a file's warnings and verbose lines go (its FileReport). */
export interface Diagnostics {
  readonly warnings: string[];
  readonly info: string[];
}

/** What one file's members may hold in memory, all together (see HandlerContext.reserve). */
class Budget {
  used = 0;
  constructor(readonly limit: number) {}
}

/** A handler's request for a file beside its input (HandlerContext.setMtimeBeside). */
export interface MtimeBeside {
  readonly name: string;
  readonly mtime: number;
}

class Context implements HandlerContext {
  /** Set by keep(): the handler left its input alone on purpose. */
  kept = false;
  /** What setMtimeBeside asked, for the file's own context only. */
  readonly beside: MtimeBeside[] = [];

  constructor(
    readonly options: NormalizeOptions,
    readonly name: string,
    readonly depth: number,
    private readonly out: Diagnostics,
    private readonly budget: Budget,
    readonly hooks?: MemberHooks,
  ) {}

  reserve(bytes: number, what: string): void {
    this.budget.used += bytes;
    if (this.budget.used > this.budget.limit) {
      throw new LimitError(`its members would expand to more than ${this.budget.limit} bytes in memory, at ${what} (a zip bomb? the budget is 4 times --max-member-size, or 64 times the file's size)`);
    }
  }

  warn(message: string): void {
    this.out.warnings.push(message);
  }

  info(message: string): void {
    this.out.info.push(message);
  }

  keep(reason: string): void {
    this.kept = true;
    this.warn(reason);
  }

  setMtimeBeside(name: string, mtime: number): void {
    if (this.depth === 0) this.beside.push({ name, mtime });
  }

  wants(name: string, how: MemberOptions = ANY): boolean {
    return how.as !== undefined || candidates(name, this.options, how).length > 0;
  }

  async member(name: string, src: Source, sink: Sink, how: MemberOptions = ANY): Promise<MemberResult> {
    const handler = await chooseHandler(name, src, this.options, how);
    if (!handler) return { changed: false, kept: false };
    const limit = this.options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (this.depth >= limit) throw new LimitError(`members nested more than ${limit} deep, at ${name} (--max-depth raises the limit)`);
    const child = new Context(this.options, name === '' ? this.name : `${this.name}:${name}`, this.depth + 1, this.out, this.budget, how.hooks);
    try {
      const changed = await handler.normalize(src, sink, child);
      return { handler: handler.name, changed, kept: child.kept };
    } catch (e) {
      if (!(e instanceof FormatError) || e instanceof LimitError || how.errors === 'throw') throw e;
      this.warn(`${child.name}: ${e.message}; member left unchanged`);
      return { handler: handler.name, changed: false, kept: true };
    }
  }
}

/** What a file's members may expand to in memory, all together: 4 times the member limit, or
 *  64 times the file's size for big files (a real archive expands a few times; a bomb, millions). */
export function expansionBudget(options: NormalizeOptions, fileSize: number): number {
  return Math.max(4 * memberLimit(options), 64 * fileSize);
}

/** The context of a file (depth 0) of `size` bytes, reporting into `out`. */
export function fileContext(options: NormalizeOptions, name: string, size: number, out: Diagnostics): HandlerContext & { readonly beside: readonly MtimeBeside[] } {
  return new Context(options, name, 0, out, new Budget(expansionBudget(options, size)));
}

/** The member's handler: the one named by `as`, else detection among the allowed ones. */
async function chooseHandler(name: string, src: Source, options: NormalizeOptions, how: MemberOptions): Promise<Handler | undefined> {
  if (how.as !== undefined) {
    const named = handlerByName(how.as);
    if (!named) throw new Error(`no handler named ${how.as}`);
    return named;
  }
  const found = candidates(name, options, how);
  // Nothing could take it: the member's bytes are not even read.
  if (found.length === 0 || src.size === 0) return undefined;
  const detected = await detect(name, withHead(src), new Set(found.map((h) => h.name)), found);
  return detected?.enabled ? detected.handler : undefined;
}

/** The normalizers `how` allows, in detection order: worked out once per options object (a
 *  container asks for each of its members; its options are constants) and registry state. */
const pools = new WeakMap<MemberOptions, { registered: number; enabled: ReadonlySet<string>; list: Handler[] }>();
function allowedHandlers(options: NormalizeOptions, how: MemberOptions): Handler[] {
  const hit = pools.get(how);
  if (hit && hit.registered === registeredCount() && hit.enabled === options.enabled) return hit.list;
  const allowed = (n: string) => how.implied?.includes(n) || (options.enabled.has(n) && (!how.allow || how.allow.includes(n) || !isBuiltIn(n)));
  const list = handlers().filter((h) => allowed(h.name));
  pools.set(how, { registered: registeredCount(), enabled: options.enabled, list });
  return list;
}

/** The normalizers `how` allows whose name pattern matches `name`, in detection order. */
function candidates(name: string, options: NormalizeOptions, how: MemberOptions): Handler[] {
  const list = allowedHandlers(options, how);
  return list.length === 0 ? list : list.filter((h) => h.matchName(name));
}

/** `src` with its first bytes at hand, as detection wants it. */
function withHead(src: Source): Source & { head: Buffer } {
  return { size: src.size, head: src.readSync(0, HEAD_SIZE), read: (o, l) => src.read(o, l), readSync: (o, l) => src.readSync(o, l) };
}
