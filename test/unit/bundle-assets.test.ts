/**
 * The image's operator serves the browser terminal's assets from its bundle
 * (ADR 33): src/web/assets.ts bundled with scripts/bundle.ts's define finds
 * them without building anything (esbuild is not in the image).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { terminalAssetsDefine } from '../../scripts/bundle.js';

describe('the terminal assets in the operator\'s bundle', () => {
  it('are read from the bundle, not built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'execsession-assets-'));
    try {
      const out = join(dir, 'assets.mjs');
      await build({ entryPoints: [join(REPO_ROOT, 'src/web/assets.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', define: await terminalAssetsDefine(), logLevel: 'warning' });
      const { terminalAssets } = await import(pathToFileURL(out).href) as typeof import('../../src/web/assets.js');
      const assets = await terminalAssets();
      assert.match(assets.get('terminal.js')?.body.toString() ?? '', /xterm-helper-textarea/);
      assert.match(assets.get('terminal.css')?.body.toString() ?? '', /\.xterm/);
      // They are in the bundled file itself (without the define they would be built at run time, needing esbuild).
      assert.match(readFileSync(out, 'utf8'), /xterm-helper-textarea/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
