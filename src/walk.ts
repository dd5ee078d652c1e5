/**
 * Tree walking. `listFiles` returns every regular file below a directory, sorted by path in
 * byte order; symlinks are not followed (a link is neither listed nor descended into).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function listFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
