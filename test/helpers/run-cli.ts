import {spawnSync} from 'node:child_process';
import path from 'node:path';

export const repo = path.join(import.meta.dirname, '..', '..');
const bin = path.join(repo, 'bin', 'layerlens');

export type CliResult = {code: number; stdout: string; stderr: string};

/** Runs the built CLI as a user would (npm test builds it first). */
export function cli(args: string[], env: Record<string, string | undefined> = {}): CliResult {
	const r = spawnSync(process.execPath, [bin, ...args], {
		encoding: 'utf8',
		env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env},
		maxBuffer: 256 * 1024 * 1024,
	});
	return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr};
}

/**
 * Runs a command line in this process (src/cli.ts's run) with what cli() gives the built CLI: the
 * same environment, no terminal (so no colour), standard output decoded as UTF-8. For the tests where
 * the process boundary is not what is tested (signals, exit codes of a real process, writes to a
 * closed or full stdout, stdout naming the evidence: those spawn through cli()).
 */
export async function cliIn(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
	const out: Buffer[] = [];
	const err: Buffer[] = [];
	const chunk = (s: string | Uint8Array) => (typeof s === 'string' ? Buffer.from(s) : Buffer.from(s));
	// Loaded here, so that the suites that only spawn do not load the CLI's modules too.
	const {run} = await import('../../src/cli.ts');
	const code = await run(args, {
		stdout: {write: (s: string | Uint8Array) => (out.push(chunk(s)), true)},
		stderr: {write: (s: string | Uint8Array) => (err.push(chunk(s)), true)},
		env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env},
	});
	return {code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')};
}
