// Copies the E2E screenshots the README shows from artifacts/ to docs/screenshots/.
// Run after `node --test` (scripts/test.sh does both): node copy-screenshots.mjs
import fs from 'node:fs/promises';
import path from 'node:path';
import { artifacts } from './harness.mjs';

const docs = path.resolve(artifacts, '../../../docs/screenshots');
const shots = ['01-seed-race-pre', '03-fix-waits', '04-every-interleaving', '05-embed', '06-why-it-broke', '07-overview-1024', '08-phone', '09-dark', '10-move-note', '11-patch-view', '12-find-fix', '13-editor', '30-bit-view-torn'];
await fs.mkdir(docs, { recursive: true });
for (const name of shots) {
  await fs.copyFile(path.join(artifacts, `${name}.png`), path.join(docs, `${name}.png`));
  console.log(`docs/screenshots/${name}.png`);
}
