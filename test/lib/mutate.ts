/** Deterministic damage for robustness tests: truncations and byte flips from a fixed
 *  pseudo-random sequence (xorshift), so a failure names a reproducible case. */
export function* mutations(input: Buffer, seed: number): Generator<[string, Buffer]> {
  let x = seed >>> 0 || 1;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  for (let i = 0; i < 12; i++) {
    const cut = rand(input.length);
    yield [`truncated at ${cut}`, input.subarray(0, cut)];
  }
  for (let i = 0; i < 24; i++) {
    const b = Buffer.from(input);
    const n = 1 + rand(4);
    const spots: number[] = [];
    for (let k = 0; k < n; k++) {
      // Half the flips land in the first 256 bytes, where most headers are.
      const at = rand(2) ? rand(Math.min(256, b.length)) : rand(b.length);
      b[at] ^= 1 + rand(255);
      spots.push(at);
    }
    yield [`bytes flipped at ${spots.join(',')}`, b];
  }
}
