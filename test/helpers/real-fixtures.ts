import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The one door to ../shared/fixtures/real/ beside the repository: two real hosts' trees (aufs,
 * overlay2) from google/docker-explorer's test data. Every test that reads them goes through
 * realTgz or realRoot. When the folder is absent, the tests that need it are skipped and this says
 * so once, in one line on stderr; under CI=true an absent fixture is an error (a skipped
 * real-fixture test in CI would be a silent loss).
 */
export const realDir = path.join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'real');

export type RealName = 'aufs' | 'overlay2';

let told = false;

/** The path of <name>.v2.tgz, or null when it is absent outside CI (said once on stderr); throws under CI. */
export function realTgz(name: RealName): string | null {
	const tgz = path.join(realDir, `${name}.v2.tgz`);
	if (fs.existsSync(tgz)) return tgz;
	if (process.env.CI) throw new Error(`real fixture ${tgz} is missing; it is required under CI`);
	if (!told) {
		told = true;
		process.stderr.write(
			`layerlens tests: ${realDir} is absent; the tests on the real fixtures are skipped (under CI=true they fail)\n`,
		);
	}
	return null;
}

const cache = new Map<string, string>();

/** Extracts <name>.v2.tgz once per process; returns the Docker root inside it, or null when the fixtures are absent (an error under CI). */
export function realRoot(name: RealName): string | null {
	const tgz = realTgz(name);
	if (tgz === null) return null;
	const hit = cache.get(name);
	if (hit !== undefined) return hit;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-real-${name}-`));
	execFileSync('tar', ['-xzf', tgz, '-C', dir]);
	const root = path.join(dir, 'docker');
	cache.set(name, root);
	process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
	return root;
}
