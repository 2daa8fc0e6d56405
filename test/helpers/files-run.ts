// Runs a layerlens command line in this process (src/cli.ts's run), capturing stdout as bytes.
import {run} from '../../src/cli.ts';

export type Ran = {code: number; stdout: string; bytes: Buffer; stderr: string};

export async function ll(args: string[]): Promise<Ran> {
	const out: Buffer[] = [];
	let stderr = '';
	const code = await run(args, {
		stdout: {write: (s: string | Buffer) => (out.push(typeof s === 'string' ? Buffer.from(s) : Buffer.from(s)), true)},
		stderr: {write: (s: string) => ((stderr += s), true)},
		env: {},
	});
	const bytes = Buffer.concat(out);
	return {code, stdout: bytes.toString('utf8'), bytes, stderr};
}
