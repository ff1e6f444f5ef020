/**
 * Builds the browser terminal's assets (terminal.js and terminal.css: our code,
 * xterm.js and its addon) with esbuild, in memory. scripts/bundle.ts puts the
 * result into the operator's bundle; the operator run from source (tsx) builds
 * them at its first page request instead (assets.ts). esbuild and xterm.js are
 * devDependencies: present wherever the source is, never needed by the image.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TerminalAsset } from '../api/subresources.js';

/** The asset files by name, as text. */
export type AssetTexts = Record<TerminalAsset, string>;

/** The browser code beside this file, or, compiled by `npm run build` into dist/web/, in src/web/browser/. */
function entry(file: string): string {
  const here = fileURLToPath(new URL(`./browser/${file}`, import.meta.url));
  return existsSync(here) ? here : fileURLToPath(new URL(`../../src/web/browser/${file}`, import.meta.url));
}

/** Builds both assets, minified, for the browsers of the last few years. */
export async function buildTerminalAssets(): Promise<AssetTexts> {
  // A variable, so that bundling the operator never bundles esbuild itself.
  const pkg = 'esbuild';
  const { build } = (await import(pkg)) as typeof import('esbuild');
  const common: import('esbuild').BuildOptions = { bundle: true, write: false, minify: true, legalComments: 'eof', logLevel: 'warning', target: ['chrome110', 'firefox115', 'safari16'] };
  const [js, css] = await Promise.all([
    build({ ...common, entryPoints: [entry('terminal.ts')], format: 'esm', platform: 'browser', outfile: 'terminal.js' }),
    build({ ...common, entryPoints: [entry('terminal.css')], outfile: 'terminal.css' }),
  ]);
  const text = (r: { outputFiles?: { text: string }[] }): string => r.outputFiles?.[0]?.text ?? '';
  return { 'terminal.js': text(js), 'terminal.css': text(css) };
}
