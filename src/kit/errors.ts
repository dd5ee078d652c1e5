/**
 * Typed errors. A FormatError means the input is not a valid instance of the format its
 * handler expected; the CLI prints it as `strip-nondeterminism: FILE: reason` and the file
 * is left untouched. UsageError covers bad flags and options (Perl's `die $usage` cases).
 */

export class FormatError extends Error {
  /** Byte offset in the input where the problem was found, when known. */
  readonly offset?: number;
  constructor(message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at offset ${offset})`);
    this.name = 'FormatError';
    this.offset = offset;
  }
}

export class UsageError extends Error {
  /** Process exit status to use: Perl's die gives 255. */
  readonly exitCode: number;
  /** Print the usage line after the message (Getopt failures do). */
  readonly showUsage: boolean;
  constructor(message: string, opts: { exitCode?: number; showUsage?: boolean } = {}) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = opts.exitCode ?? 255;
    this.showUsage = opts.showUsage ?? false;
  }
}
