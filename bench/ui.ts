// The interactive UI in the benchmark (used by bench/run.ts).
//
// ui-first-frame: the real program (node bin/layerlens --root ROOT, no command) in a
//   pseudo-terminal made by util-linux `script` (100x30, set with stty), started by the bench.
//   Times from the spawn to the first frame of the tree: the first output containing the
//   status bar's "<N> containers ·" (the loading line says "<N> container configs"). Also:
//   when the whole model is in (the status bar counts images and layers), and the redraw
//   after each of a few keys once it is (time from writing the key to the pty to the first
//   output that follows; keys are sent one at a time, after the output has been quiet).
//   GNU time wraps the program for its peak RSS and CPU time (the load worker is a thread
//   of the same process, so both are counted).
// ui-keys: the same App, in-process (measure-ui.ts measureUi: a fake terminal, no pty),
//   on the model as the UI gets it from its load worker (pack.ts: configs read on demand),
//   timing the redraw after each key of measure-ui.ts's defaultKeys.
import {spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PtyRun {
	/** From spawn to the first frame of the tree. */
	firstFrameMs: number;
	/** From spawn to the first frame with the whole model (images, layers, findings counted). */
	fullMs: number;
	/** Redraw after each key, in order. */
	keys: Array<{key: string; ms: number}>;
	cpuMs: number;
	rssKB: number;
	/** Everything the program wrote (for checks). */
	output: string;
}

/** Moves, a page, to the top, expand a container and walk its chain (the init layer lists its files), scroll the details, back, collapse, to the bottom, help. */
export const ptyKeys = [
	'j',
	'j',
	'k',
	'\u001B[6~',
	'g',
	'j',
	'\r',
	'j',
	'j',
	'\t',
	'j',
	'\t',
	'\u001B[D',
	'\r',
	'G',
	'?',
	'?',
];

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * Runs `argv` (a layerlens command line) in a pseudo-terminal of cols x rows and measures it.
 * `containers` is the count the status bar must show.
 */
export async function runUiInPty(
	argv: string[],
	containers: number,
	opts: {cols?: number; rows?: number; timeoutMs?: number; gnuTime?: string} = {},
): Promise<PtyRun> {
	const cols = opts.cols ?? 100;
	const rows = opts.rows ?? 30;
	const timeout = opts.timeoutMs ?? 30_000;
	const timeFile = path.join(os.tmpdir(), `layerlens-bench-ui-${process.pid}.time`);
	fs.rmSync(timeFile, {force: true});
	const wrapped = opts.gnuTime === undefined ? argv : [opts.gnuTime, '-f', '%M %U %S', '-o', timeFile, ...argv];
	const inner = `stty cols ${cols} rows ${rows} && exec ${wrapped.map(shq).join(' ')}`;
	const env: NodeJS.ProcessEnv = {...process.env, TERM: process.env.TERM ?? 'xterm-256color'};
	// Ink writes only its last frame when it believes it runs under CI.
	delete env.CI;
	const t0 = performance.now();
	const child = spawn('script', ['-qfec', inner, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe'], env});
	let output = '';
	let lastData = t0;
	let onData: (() => void) | null = null;
	child.stdout.on('data', (d: Buffer) => {
		output += d.toString('utf8');
		lastData = performance.now();
		onData?.();
	});
	let stderr = '';
	child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
	const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
	let done = false;
	void exited.then(() => (done = true));

	/** Resolves with the time at which `test(output)` first held, checked on every chunk. */
	const until = (test: () => boolean, what: string, ms = timeout) =>
		new Promise<number>((resolve, reject) => {
			if (test()) return resolve(lastData);
			const timer = setTimeout(() => {
				onData = null;
				reject(
					new Error(
						`no ${what} within ${ms} ms; exited: ${done}; stderr: ${stderr.trim().slice(0, 300)}; screen: ${JSON.stringify(output.slice(-600))}`,
					),
				);
			}, ms);
			onData = () => {
				if (!test()) return;
				clearTimeout(timer);
				onData = null;
				resolve(lastData);
			};
		});
	const quiet = async (ms: number) => {
		while (performance.now() - lastData < ms) await sleep(ms - (performance.now() - lastData) + 1);
	};

	try {
		const first = new RegExp(`\\b${containers} containers ·`);
		const firstAt = await until(() => first.test(output), 'first frame of the tree');
		const full = new RegExp(`\\b${containers} containers · \\d+ images? · \\d+ layers? · `);
		const fullAt = await until(() => full.test(output), 'frame with the whole model');
		const keys: Array<{key: string; ms: number}> = [];
		for (const key of ptyKeys) {
			await quiet(150);
			const before = output.length;
			const sent = performance.now();
			child.stdin.write(key);
			const at = await until(() => output.length > before, `redraw after key ${JSON.stringify(key)}`, 5_000);
			keys.push({key, ms: at - sent});
		}
		await quiet(100);
		child.stdin.write('q');
		const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout' as const)]);
		if (code !== 0) throw new Error(`the UI exited with ${code}; stderr: ${stderr.trim().slice(0, 300)}`);
		let cpuMs = 0;
		let rssKB = 0;
		if (opts.gnuTime !== undefined) {
			const [rss, user, sys] = (fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '')
				.split(' ')
				.map(Number);
			rssKB = rss ?? 0;
			cpuMs = Math.round(((user ?? 0) + (sys ?? 0)) * 1000);
		}
		return {firstFrameMs: firstAt - t0, fullMs: fullAt - t0, keys, cpuMs, rssKB, output};
	} finally {
		if (!done) child.kill('SIGKILL');
		fs.rmSync(timeFile, {force: true});
	}
}

export function percentile(xs: number[], p: number): number {
	if (xs.length === 0) return 0;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
