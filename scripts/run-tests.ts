// `npm test`'s runner: every uvu suite under test/unit, test/dockerd and test/properties, each in its own
// process, two at a time (the test machine has 2 cores; every real-daemon suite uses its own data root,
// exec root and socket). A suite's output is printed whole when it ends, so two never interleave; the
// summary counts every suite's tests, and the exit code is 1 when any suite failed.
//
// The real-daemon states that several suites start from are built once per run: the runner makes a
// cache directory (LAYERLENS_STATE_CACHE, see test/helpers/shared-state.ts) and removes it at the end
// and on SIGINT/SIGTERM, after the suites (which stop their own daemons) have exited.
//
// Usage: node --import tsx scripts/run-tests.ts [PATTERN...]: only suites whose path under test/ matches
// one of the regular expressions. LAYERLENS_TEST_JOBS sets how many run at once (default 2).
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.join(import.meta.dirname, '..');
const groups = ['unit', 'dockerd', 'properties'];
const jobs = Math.max(1, Number(process.env.LAYERLENS_TEST_JOBS ?? 2) || 2);

// The longest suites start first so that the two lanes end together (measured on the 2-core machine);
// any suite not named here runs after them, in name order.
const longestFirst = [
	'dockerd/archive.ts',
	'properties/evidence-read-only.ts',
	'properties/hostile.ts',
	'properties/evidence-door.ts',
	'dockerd/files.ts',
	'dockerd/df.ts',
	'dockerd/which.ts',
	'properties/output.ts',
	'dockerd/teach.ts',
	'dockerd/side-by-side.ts',
	'properties/fuzz.ts',
	'dockerd/containerd-store.ts',
	'dockerd/standard-state.ts',
	'dockerd/btrfs.ts',
	'dockerd/live-root.ts',
	'dockerd/buildkit.ts',
	'dockerd/containerd-root.ts',
	'dockerd/volumes.ts',
	'dockerd/names.ts',
];

/** Test files outside the three groups would never run: say so and stop, rather than pass without them. */
function strays(): string[] {
	const top = path.join(repo, 'test');
	return fs
		.readdirSync(top, {withFileTypes: true})
		.filter(
			e =>
				(e.isFile() && /\.tsx?$/.test(e.name)) ||
				(e.isDirectory() && !['helpers', 'fixtures', ...groups].includes(e.name)),
		)
		.map(e => `test/${e.name}`);
}

function suites(patterns: readonly RegExp[]): string[] {
	const stray = strays();
	if (stray.length > 0) {
		process.stderr.write(
			`run-tests: ${stray.join(', ')}: not in test/unit, test/dockerd or test/properties, so never run; move ${stray.length === 1 ? 'it' : 'them'} into one\n`,
		);
		process.exit(2);
	}
	const all = groups.flatMap(g =>
		fs
			.readdirSync(path.join(repo, 'test', g))
			.filter(f => /\.tsx?$/.test(f))
			.map(f => `${g}/${f}`),
	);
	const chosen = all.filter(s => patterns.length === 0 || patterns.some(p => p.test(s))).sort();
	if (chosen.length === 0) {
		process.stderr.write(`run-tests: no suite matches ${patterns.map(p => p.source).join(' ')}\n`);
		process.exit(2);
	}
	const rank = (s: string) => (longestFirst.includes(s) ? longestFirst.indexOf(s) : longestFirst.length);
	return chosen.sort((a, b) => rank(a) - rank(b));
}

type Result = {suite: string; code: number; seconds: number; total: number; passed: number; skipped: number};

const ansi = /\x1b\[[0-9;]*m/g;

function count(output: string, label: string): number {
	const m = new RegExp(`${label}:\\s+(\\d+)`).exec(output.replace(ansi, ''));
	return m === null ? 0 : Number(m[1]);
}

const children = new Set<ReturnType<typeof spawn>>();

function runSuite(suite: string, env: NodeJS.ProcessEnv): Promise<Result> {
	const [group, file] = suite.split('/') as [string, string];
	const pattern = `^${file.replace(/[.]/g, '\\.')}$`;
	const started = Date.now();
	return new Promise(resolve => {
		const child = spawn(
			process.execPath,
			['--import', 'tsx', 'node_modules/uvu/bin.js', path.join('test', group), pattern],
			{cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true},
		);
		children.add(child);
		const out: Buffer[] = [];
		child.stdout.on('data', (b: Buffer) => out.push(b));
		child.stderr.on('data', (b: Buffer) => out.push(b));
		child.on('close', (code, signal) => {
			children.delete(child);
			const seconds = (Date.now() - started) / 1000;
			const text = Buffer.concat(out).toString('utf8');
			const status = code ?? (signal !== null ? 128 + (os.constants.signals[signal] ?? 0) : 1);
			process.stdout.write(`\n── ${suite} (${seconds.toFixed(1)} s${status === 0 ? '' : `, exit ${status}`})\n${text}`);
			resolve({
				suite,
				code: status,
				seconds,
				total: count(text, 'Total'),
				passed: count(text, 'Passed'),
				skipped: count(text, 'Skipped'),
			});
		});
	});
}

function removeCache(dir: string): void {
	fs.rmSync(dir, {recursive: true, force: true, maxRetries: 3});
}

async function main(): Promise<number> {
	const patterns = process.argv.slice(2).map(p => new RegExp(p));
	const queue = suites(patterns);
	const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-states-'));
	const env = {...process.env, LAYERLENS_STATE_CACHE: cache};
	let interrupted = false;
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			// The suites run in their own process groups (the terminal's Ctrl-C reaches only the runner): each gets
			// the signal once, and stops its daemons and unmounts what it mounted before it exits.
			interrupted = true;
			queue.length = 0;
			for (const child of children) child.kill(signal);
		});
	}
	const started = Date.now();
	const results: Result[] = [];
	const lane = async () => {
		for (let next = queue.shift(); next !== undefined; next = queue.shift()) results.push(await runSuite(next, env));
	};
	try {
		await Promise.all(Array.from({length: jobs}, lane));
	} finally {
		removeCache(cache);
	}
	const failed = results.filter(r => r.code !== 0);
	const sum = (k: 'total' | 'passed' | 'skipped') => results.reduce((n, r) => n + r[k], 0);
	const wall = (Date.now() - started) / 1000;
	process.stdout.write(
		`\n${results.length} suites, ${jobs} at a time, ${Math.floor(wall / 60)} min ${Math.round(wall % 60)} s: ` +
			`${sum('total')} tests, ${sum('passed')} passed, ${sum('skipped')} skipped, ${sum('total') - sum('passed') - sum('skipped')} failed\n`,
	);
	if (failed.length > 0) process.stdout.write(`failed: ${failed.map(r => `${r.suite} (exit ${r.code})`).join(', ')}\n`);
	if (interrupted) return 130;
	return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
