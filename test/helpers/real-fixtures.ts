import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** ../shared/fixtures/real/ beside the repository: two real hosts' trees (aufs, overlay2) from google/docker-explorer's test data. */
export const realDir = path.join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'real');

const cache = new Map<string, string>();

/** Extracts <name>.v2.tgz once per process; returns the Docker root inside it, or null when the fixtures are absent (an error under CI). */
export function realRoot(name: 'aufs' | 'overlay2'): string | null {
	const tgz = path.join(realDir, `${name}.v2.tgz`);
	if (!fs.existsSync(tgz)) {
		if (process.env['CI']) throw new Error(`real fixture ${tgz} is missing; it is required under CI`);
		return null;
	}
	const hit = cache.get(name);
	if (hit !== undefined) return hit;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-real-${name}-`));
	execFileSync('tar', ['-xzf', tgz, '-C', dir]);
	const root = path.join(dir, 'docker');
	cache.set(name, root);
	process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
	return root;
}
