/*
 * gbuild-random: predictable randomness for the processes of a Gitian build (descriptor field
 * `random: deterministic`; docs/gitian.md). Preloaded by the build script, as libfaketime is.
 *
 * Every process reads one stream from its start: block i (32 bytes) is SHA-256(seed || i), i a
 * 64-bit big-endian counter, seed the 32 bytes of $GBUILD_RANDOM_SEED (64 hex digits). The
 * build's /dev/random and /dev/urandom are a file holding the stream's first bytes (gbuild binds
 * it there), so `od -N16 /dev/urandom` and a fresh process's first getrandom(16) agree.
 *
 * Replaced: getrandom(3), getentropy(3), arc4random(3), arc4random_buf(3), arc4random_uniform(3)
 * when a program calls them through the dynamic linker. Not reached: static binaries, the raw
 * syscall (syscall(SYS_getrandom)), glibc's own internal calls (mkstemp's names, malloc's and the
 * stack protector's AT_RANDOM). With $GBUILD_RANDOM_LOG set, each call is appended to that file
 * (pid, function, bytes), so a build can see which calls were answered here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* SHA-256 of one 64-byte block already padded (the message is 40 bytes: seed and counter). */
static void sha256_block(const uint8_t block[64], uint8_t out[32]) {
  uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
  for (int i = 0; i < 8; i++) {
    out[4 * i] = h[i] >> 24; out[4 * i + 1] = h[i] >> 16; out[4 * i + 2] = h[i] >> 8; out[4 * i + 3] = h[i];
  }
}

static uint8_t seed[32];
static uint64_t position; /* bytes of the stream this process has used */

__attribute__((constructor)) static void load_seed(void) {
  const char *hex = getenv("GBUILD_RANDOM_SEED");
  for (int i = 0; hex && i < 32 && hex[2 * i] && hex[2 * i + 1]; i++) {
    char pair[3] = { hex[2 * i], hex[2 * i + 1], 0 };
    seed[i] = (uint8_t)strtoul(pair, NULL, 16);
  }
}

static void fill(void *buf, size_t len, const char *who) {
  uint8_t *out = buf;
  uint8_t block[64], digest[32];
  size_t done = 0;
  while (done < len) {
    uint64_t index = position / 32;
    memset(block, 0, sizeof block);
    memcpy(block, seed, 32);
    for (int i = 0; i < 8; i++) block[32 + i] = (uint8_t)(index >> (56 - 8 * i));
    block[40] = 0x80;            /* padding of a 40-byte message */
    block[62] = (40 * 8) >> 8;   /* its length in bits: 320 */
    block[63] = (40 * 8) & 0xff;
    sha256_block(block, digest);
    size_t from = position % 32, take = 32 - from;
    if (take > len - done) take = len - done;
    memcpy(out + done, digest + from, take);
    done += take;
    position += take;
  }
  const char *log = getenv("GBUILD_RANDOM_LOG");
  if (log) {
    FILE *f = fopen(log, "a");
    if (f) {
      fprintf(f, "%ld %s %zu\n", (long)getpid(), who, len);
      fclose(f);
    }
  }
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags) {
  (void)flags;
  fill(buf, len, "getrandom");
  return (ssize_t)len;
}

int getentropy(void *buf, size_t len) {
  if (len > 256) {
    errno = EIO;
    return -1;
  }
  fill(buf, len, "getentropy");
  return 0;
}

void arc4random_buf(void *buf, size_t len) { fill(buf, len, "arc4random_buf"); }

uint32_t arc4random(void) {
  uint32_t v;
  fill(&v, sizeof v, "arc4random");
  return v;
}

uint32_t arc4random_uniform(uint32_t upper) {
  if (upper < 2) return 0;
  uint32_t floor = -upper % upper, v; /* reject the biased low values */
  do fill(&v, sizeof v, "arc4random_uniform"); while (v < floor);
  return v % upper;
}
