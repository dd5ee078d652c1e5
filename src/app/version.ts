/** This port's version, and the Perl strip-nondeterminism release whose behaviour it matches. */
export const VERSION = '0.1.0';
export const PERL_COMPAT_VERSION = '1.14.1';
