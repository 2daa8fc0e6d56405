import {spawnSync} from 'node:child_process';
import path from 'node:path';

export const repo = path.join(import.meta.dirname, '..', '..');
const bin = path.join(repo, 'bin', 'layerlens');

export type CliResult = {code: number; stdout: string; stderr: string};

/** Runs the built CLI as a user would (npm test builds it first). */
export function cli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
	const r = spawnSync(process.execPath, [bin, ...args], {encoding: 'utf8', env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env}, maxBuffer: 256 * 1024 * 1024});
	return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}
