// Benchmark layerlens on a large real Docker state.
//
//   npm run bench [-- --rounds N] [-- --cases baseline,ls-json,...]
//
// 1. Makes sure the state exists (bench/make-state.ts; built once, cached
//    outside the repo).
// 2. Needs the compiled CLI (build/src/cli.js; run `npm run build` first).
// 3. Runs every case once to check it works (and to warm the page cache), then
//    N rounds (default 5) of all cases, rotating their order each round, and
//    reports the median wall time, the ratio to the baseline, and peak RSS.
// 4. Prints a table and writes bench/results.json. Targets are reported, not
//    enforced: the exit code is 0 unless something could not run.
//
// Wall time: process.hrtime around spawnSync of the whole child (including
// GNU time's own fork/exec, the same ~1 ms for every case).
// Peak memory: GNU time's %M (ru_maxrss of the child and its descendants, KB),
// written to a temp file with -o so the child's own stderr stays separate.
import {spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {ensureState, type BenchState} from './make-state.ts';
import {percentile, ptyKeys, runUiInPty} from './ui.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repo = path.dirname(benchDir);
const cliJs = path.join(repo, 'build', 'src', 'cli.js');
const binLayerlens = path.join(repo, 'bin', 'layerlens');
const GNU_TIME = '/usr/bin/time';

/** One measurement of one case. */
interface Sample {
	wallMs: number;
	/** user + system CPU time of the child and its descendants (GNU time, 10 ms resolution). */
	cpuMs: number;
	rssKB: number;
	/** Further numbers a case may report (e.g. first frame / key redraw for the interactive UI). */
	extra?: Record<string, number>;
}

interface Targets {
	/** Median wall time at most this many times the baseline's. */
	maxRatio?: number;
	/** Peak RSS at most this many MB. */
	maxRssMB?: number;
	/** Median wall time at most this many ms (absolute: the interactive UI's first frame). */
	maxMs?: number;
	/** This `extra` number's median at most this many ms (e.g. the key redraw). */
	maxExtraMs?: {key: string; ms: number};
	/** Median wall time at most this many times another case's in the same run (df against du -sb). */
	maxRatioTo?: {case: string; ratio: number};
}

/**
 * A benchmark case. Today every case is a command run to completion with
 * stdout to /dev/null; an interactive-UI case (first frame, key redraw) can be
 * added with its own `check` / `measure` (e.g. run under a pty and report the
 * times in Sample.extra).
 */
interface Case {
	name: string;
	/** What exactly runs, for the report. */
	command: string;
	targets: Targets;
	/** What `wallMs` is when it is not the whole run (e.g. "first frame"); such a case has no ratio to the baseline's. */
	wallIs?: string;
	/** Runs once before timing: throws if the case does not work. Returns a short note. */
	check(): string | Promise<string>;
	measure(): Sample | Promise<Sample>;
}

// ---------------------------------------------------------------- helpers

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const shq = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Run argv under GNU time, stdout to /dev/null; wall ms and peak RSS KB. */
function timed(argv: string[]): Sample {
	const tmp = path.join(os.tmpdir(), `layerlens-bench-${process.pid}.time`);
	const t0 = process.hrtime.bigint();
	const r = spawnSync(GNU_TIME, ['-f', '%M %U %S', '-o', tmp, ...argv], {
		stdio: ['ignore', 'ignore', 'pipe'],
		maxBuffer: 16 << 20,
	});
	const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
	if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`);
	const timeOut = fs.readFileSync(tmp, 'utf8');
	fs.rmSync(tmp, {force: true});
	if (r.status !== 0)
		throw new Error(
			`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().trim().slice(0, 500)} ${timeOut.trim()}`,
		);
	const [rssKB, user, sys] = (timeOut.trim().split('\n').pop() ?? '').split(' ').map(Number);
	if (!Number.isFinite(rssKB) || !Number.isFinite(user) || !Number.isFinite(sys))
		throw new Error(`cannot read GNU time's output: ${JSON.stringify(timeOut)}`);
	return {wallMs, cpuMs: Math.round((user! + sys!) * 1000), rssKB: rssKB!};
}

function captured(argv: string[]): string {
	const r = spawnSync(argv[0]!, argv.slice(1), {encoding: 'utf8', maxBuffer: 1 << 30});
	if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`);
	if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.trim().slice(0, 500)}`);
	return r.stdout;
}

// ---------------------------------------------------------------- cases

/** The plain-shell baseline: read the same metadata files, nothing else. */
function baselineFinds(root: string): string[] {
	return [
		`find ${shq(`${root}/containers`)} -mindepth 2 -maxdepth 2 -name config.v2.json`,
		`find ${shq(`${root}/image/overlay2/layerdb/mounts`)} -mindepth 2 -maxdepth 2 \\( -name mount-id -o -name init-id -o -name parent \\)`,
	];
}
const repositoriesJson = (root: string) => shq(`${root}/image/overlay2/repositories.json`);

function baselineScript(root: string): string {
	return [
		...baselineFinds(root).map(f => `${f} -exec cat {} + > /dev/null`),
		`cat ${repositoriesJson(root)} > /dev/null`,
	].join('; ');
}

function makeCases(state: BenchState): Case[] {
	const root = state.root;
	const script = baselineScript(root);
	const baseline: Case = {
		name: 'baseline',
		command: `sh -c "${script}"`,
		targets: {},
		check() {
			// The same file set, counted.
			const files = captured(['sh', '-c', [...baselineFinds(root), `ls ${repositoriesJson(root)}`].join('; ')]);
			return `${files.split('\n').filter(Boolean).length} files`;
		},
		measure: () => timed(['sh', '-c', script]),
	};
	const cli = (name: string, args: string[], targets: Targets, check: (out: string) => string): Case => {
		const argv = [process.execPath, binLayerlens, ...args, '--root', root];
		return {
			name,
			command: `node bin/layerlens ${args.join(' ')} --root ROOT > /dev/null`,
			targets,
			check: () => check(captured(argv)),
			measure: () => timed(argv),
		};
	};
	const memory = 250;
	return [
		baseline,
		cli('ls-json', ['ls', '--json'], {maxRatio: 1.3, maxRssMB: memory}, out => {
			const n = (JSON.parse(out) as unknown[]).length;
			if (n !== state.params.containers)
				throw new Error(`ls --json lists ${n} containers, expected ${state.params.containers}`);
			return `${n} containers`;
		}),
		cli('model', ['model'], {maxRatio: 2, maxRssMB: memory}, out => {
			const m = JSON.parse(out) as Record<string, unknown>;
			const counts = Object.entries(m)
				.filter(([, v]) => Array.isArray(v))
				.map(([k, v]) => `${(v as unknown[]).length} ${k}`);
			return `${(out.length / 1e6).toFixed(1)} MB JSON: ${counts.join(', ')}`;
		}),
		cli('tree', ['tree'], {maxRssMB: memory}, out => `${out.split('\n').length} lines`),
		...dfCases(state, memory),
		...uiCases(state, memory),
	];
}

/** `df` against `du -sb` on the same tree, both warm (every case runs once before the rounds). */
function dfCases(state: BenchState, memory: number): Case[] {
	const root = state.root;
	const du = ['du', '-sb', root];
	return [
		{
			name: 'du-sb',
			command: 'du -sb ROOT > /dev/null',
			targets: {},
			check: () => `${captured(du).split('\t')[0]} bytes (directories included)`,
			measure: () => timed(du),
		},
		{
			name: 'df',
			command: 'node bin/layerlens df --json --root ROOT > /dev/null',
			targets: {maxRatioTo: {case: 'du-sb', ratio: 1.2}, maxRssMB: memory},
			check() {
				const r = JSON.parse(captured([process.execPath, binLayerlens, 'df', '--json', '--root', root])) as {
					total: {bytes: number; files: number};
					categories: Array<{bytes: number}>;
				};
				const sum = r.categories.reduce((n, c) => n + c.bytes, 0);
				if (sum !== r.total.bytes) throw new Error(`df does not balance: categories ${sum}, total ${r.total.bytes}`);
				return `${r.total.bytes} bytes in ${r.total.files} files`;
			},
			measure: () => timed([process.execPath, binLayerlens, 'df', '--json', '--root', root]),
		},
	];
}

/** The interactive UI: first frame and key redraw in a pseudo-terminal, and key redraw in-process (bench/ui.ts). */
function uiCases(state: BenchState, memory: number): Case[] {
	const root = state.root;
	const n = state.params.containers;
	const argv = [process.execPath, binLayerlens, '--root', root];
	const pty = async (): Promise<Sample> => {
		const r = await runUiInPty(argv, n, {gnuTime: GNU_TIME});
		const ms = r.keys.map(k => k.ms);
		return {
			wallMs: r.firstFrameMs,
			cpuMs: r.cpuMs,
			rssKB: r.rssKB,
			extra: {fullMs: r.fullMs, keyMedianMs: median(ms), keyP90Ms: percentile(ms, 90), keyMaxMs: Math.max(...ms)},
		};
	};
	// In-process: the App as the UI shows it once the worker's model is in (configs read on demand).
	let prepared: {model: unknown; source: unknown} | null = null;
	const inProcess = async (): Promise<Sample> => {
		const [{measureUi}, {makeContainerDetails}] = await Promise.all([
			import('./measure-ui.ts'),
			import('../src/ui/container-details.ts'),
		]);
		if (prepared === null) {
			const [{loadModel, openSource}, {packModel, unpackModel}] = await Promise.all([
				import('../src/load.ts'),
				import('../src/ui/pack.ts'),
			]);
			const source = openSource(root);
			prepared = {model: unpackModel(packModel(loadModel(source).model)), source};
		}
		const {model, source} = prepared as {
			model: import('../src/model/types.ts').Model;
			source: import('../src/sources/source.ts').Source;
		};
		const t = await measureUi(model, {width: 100, height: 30, source, details: makeContainerDetails(source)});
		const ms = t.keys.map(k => k.ms);
		return {
			wallMs: t.keyMedianMs,
			cpuMs: 0,
			rssKB: 0,
			extra: {
				keyMedianMs: t.keyMedianMs,
				keyP90Ms: percentile(ms, 90),
				keyMaxMs: t.keyMaxMs,
				firstRenderMs: t.firstFrameMs,
			},
		};
	};
	return [
		{
			name: 'ui-first-frame',
			command: `script -qfec "stty cols 100 rows 30 && exec node bin/layerlens --root ROOT" /dev/null; keys: ${ptyKeys.map(k => JSON.stringify(k)).join(' ')}, then q`,
			wallIs: 'from spawn to the first frame of the tree',
			targets: {maxMs: 1000, maxRssMB: memory, maxExtraMs: {key: 'keyMedianMs', ms: 50}},
			async check() {
				const r = await runUiInPty(argv, n);
				if (!/reading images, layers and findings…/.test(r.output))
					throw new Error(
						'the first frame did not come before the whole model (no "reading images, layers and findings…" in the status bar)',
					);
				return `first frame ${r.firstFrameMs.toFixed(0)} ms, whole model ${r.fullMs.toFixed(0)} ms, ${r.keys.length} keys redrawn`;
			},
			measure: pty,
		},
		{
			name: 'ui-keys',
			command:
				'measureUi(model as sent by the load worker, 100x30, defaultKeys) in the bench process (bench/measure-ui.ts)',
			wallIs: 'median redraw after a key',
			targets: {maxMs: 50},
			async check() {
				const s = await inProcess();
				return `${s.extra!.keyMedianMs!.toFixed(1)} ms median, max ${s.extra!.keyMaxMs!.toFixed(1)} ms`;
			},
			measure: inProcess,
		},
	];
}

// ---------------------------------------------------------------- main

interface CaseResult {
	name: string;
	command: string;
	wallIs: string | null;
	/** Median over rounds of each `extra` number. */
	extra: Record<string, number>;
	check: string;
	samples: Sample[];
	medianWallMs: number;
	medianCpuMs: number;
	ratio: number | null;
	cpuRatio: number | null;
	peakRssMB: number;
	targets: Targets;
	failed: string[];
}

function parseArgs(argv: string[]): {rounds: number; only: string[] | null} {
	let rounds = 5;
	let only: string[] | null = null;
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i]!;
		if (a === '--rounds') rounds = Number(argv[++i]);
		else if (a.startsWith('--rounds=')) rounds = Number(a.slice(9));
		else if (a === '--cases') only = (argv[++i] ?? '').split(',');
		else if (a.startsWith('--cases=')) only = a.slice(8).split(',');
		else {
			process.stderr.write(`bench: unknown argument ${a} (use --rounds N, --cases a,b)\n`);
			process.exit(2);
		}
	}
	if (!Number.isInteger(rounds) || rounds < 1) {
		process.stderr.write('bench: --rounds needs a positive integer\n');
		process.exit(2);
	}
	return {rounds, only};
}

function gitHead(): string {
	const r = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], {encoding: 'utf8'});
	return r.status === 0 ? r.stdout.trim() : 'unknown';
}

async function main(): Promise<number> {
	const {rounds, only} = parseArgs(process.argv.slice(2));
	if (!fs.existsSync(cliJs)) {
		process.stderr.write(`bench: ${path.relative(process.cwd(), cliJs)} is missing; run \`npm run build\` first\n`);
		return 2;
	}
	if (!fs.existsSync(GNU_TIME)) {
		process.stderr.write(`bench: ${GNU_TIME} (GNU time) is missing; apt-get install -y time\n`);
		return 2;
	}
	const state = await ensureState();
	process.stderr.write(
		`bench: state ${state.root} (${state.built ? 'built now' : 'cached'}, build took ${state.buildSeconds.toFixed(0)} s)\n`,
	);

	let cases = makeCases(state);
	if (only) {
		const unknown = only.filter(n => !cases.some(c => c.name === n));
		if (unknown.length) {
			process.stderr.write(
				`bench: unknown case(s) ${unknown.join(', ')}; cases: ${cases.map(c => c.name).join(', ')}\n`,
			);
			return 2;
		}
		cases = cases.filter(c => c.name === 'baseline' || only.includes(c.name));
	}

	// Check (and warm up) every case once.
	const checks = new Map<string, string>();
	for (const c of cases) {
		try {
			checks.set(c.name, await c.check());
			await c.measure();
		} catch (e) {
			process.stderr.write(`bench: case ${c.name} does not run: ${(e as Error).message}\n`);
			return 1;
		}
		process.stderr.write(`bench: ${c.name}: ok (${checks.get(c.name)})\n`);
	}

	const loadBefore = os.loadavg();
	const samples = new Map<string, Sample[]>(cases.map(c => [c.name, []]));
	for (let r = 0; r < rounds; r++) {
		const order = cases.map((_, i) => cases[(i + r) % cases.length]!);
		for (const c of order) {
			try {
				samples.get(c.name)!.push(await c.measure());
			} catch (e) {
				process.stderr.write(`bench: case ${c.name} failed in round ${r + 1}: ${(e as Error).message}\n`);
				return 1;
			}
		}
		process.stderr.write(`bench: round ${r + 1}/${rounds} done\n`);
	}
	const loadAfter = os.loadavg();

	const baseMs = median(samples.get('baseline')!.map(s => s.wallMs));
	const baseCpuMs = median(samples.get('baseline')!.map(s => s.cpuMs));
	const results: CaseResult[] = cases.map(c => {
		const ss = samples.get(c.name)!;
		const medianWallMs = median(ss.map(s => s.wallMs));
		const whole = c.name !== 'baseline' && c.wallIs === undefined;
		const ratio = whole ? medianWallMs / baseMs : null;
		const medianCpuMs = median(ss.map(s => s.cpuMs));
		const cpuRatio = whole && medianCpuMs > 0 ? medianCpuMs / baseCpuMs : null;
		const peakRssMB = Math.max(...ss.map(s => s.rssKB)) / 1024;
		const extra: Record<string, number> = {};
		for (const key of new Set(ss.flatMap(s => Object.keys(s.extra ?? {}))))
			extra[key] = median(ss.map(s => s.extra?.[key] ?? Number.NaN).filter(Number.isFinite));
		const failed: string[] = [];
		if (c.targets.maxRatio !== undefined && ratio !== null && ratio > c.targets.maxRatio)
			failed.push(`time ${ratio.toFixed(2)}x > ${c.targets.maxRatio}x`);
		const to = c.targets.maxRatioTo;
		const other = to === undefined ? undefined : samples.get(to.case);
		if (to !== undefined && other !== undefined) {
			const vs = medianWallMs / median(other.map(s => s.wallMs));
			extra[`vs ${to.case}`] = vs;
			if (vs > to.ratio) failed.push(`time ${vs.toFixed(2)}x ${to.case}'s > ${to.ratio}x`);
		}
		if (c.targets.maxMs !== undefined && medianWallMs > c.targets.maxMs)
			failed.push(`${c.wallIs ?? 'time'} ${medianWallMs.toFixed(0)} ms > ${c.targets.maxMs} ms`);
		const te = c.targets.maxExtraMs;
		if (te !== undefined && (extra[te.key] ?? Number.POSITIVE_INFINITY) > te.ms)
			failed.push(`${te.key} ${(extra[te.key] ?? Number.NaN).toFixed(0)} ms > ${te.ms} ms`);
		if (c.targets.maxRssMB !== undefined && peakRssMB > c.targets.maxRssMB)
			failed.push(`memory ${peakRssMB.toFixed(0)} MB > ${c.targets.maxRssMB} MB`);
		return {
			name: c.name,
			command: c.command,
			wallIs: c.wallIs ?? null,
			check: checks.get(c.name)!,
			samples: ss,
			medianWallMs,
			medianCpuMs,
			ratio,
			cpuRatio,
			peakRssMB,
			extra,
			targets: c.targets,
			failed,
		};
	});

	// Table.
	const targetText = (t: Targets) =>
		[
			t.maxRatio !== undefined ? `<=${t.maxRatio}x` : '',
			t.maxMs !== undefined ? `<=${t.maxMs}ms` : '',
			t.maxExtraMs !== undefined ? `key<=${t.maxExtraMs.ms}ms` : '',
			t.maxRatioTo !== undefined ? `<=${t.maxRatioTo.ratio}x ${t.maxRatioTo.case}` : '',
			t.maxRssMB !== undefined ? `<=${t.maxRssMB}MB` : '',
		]
			.filter(Boolean)
			.join(' ') || '-';
	const hasTargets = (t: Targets) => Object.keys(t).length > 0;
	const extraText = (r: CaseResult) => {
		const e = r.extra;
		const f = (k: string, label: string) => (e[k] === undefined ? '' : `${label} ${e[k]!.toFixed(e[k]! < 10 ? 1 : 0)}`);
		return [
			f('fullMs', 'whole model at'),
			f('keyMedianMs', 'key median'),
			f('keyP90Ms', 'p90'),
			f('keyMaxMs', 'max'),
			f('firstRenderMs', 'first render'),
			f('vs du-sb', 'time vs du -sb'),
		]
			.filter(Boolean)
			.join(', ');
	};
	const rows = [
		['case', 'wall ms', 'vs base', 'peak RSS MB', 'target', 'result', 'cpu ms', 'cpu vs base', 'also (ms)'],
		...results.map(r => [
			r.name,
			r.medianWallMs.toFixed(r.medianWallMs < 10 ? 1 : 0),
			r.ratio === null ? (r.name === 'baseline' ? '1.00x' : '-') : `${r.ratio.toFixed(2)}x`,
			r.peakRssMB === 0 ? '-' : r.peakRssMB.toFixed(0),
			targetText(r.targets),
			hasTargets(r.targets) ? (r.failed.length ? 'FAIL' : 'pass') : '-',
			r.medianCpuMs === 0 ? '-' : r.medianCpuMs.toFixed(0),
			r.cpuRatio === null ? (r.name === 'baseline' ? '1.00x' : '-') : `${r.cpuRatio.toFixed(2)}x`,
			extraText(r),
		]),
	];
	const widths = rows[0]!.map((_, i) => Math.max(...rows.map(row => row[i]!.length)));
	const line = (row: string[]) =>
		row
			.map((cell, i) =>
				i === 0 || i === 4 || i === 5 || i === 8 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!),
			)
			.join('  ')
			.trimEnd();
	const out: string[] = [];
	out.push(
		`layerlens bench: ${state.params.images} images x ${state.params.layersPerImage} layers, ${state.params.containers} containers (${state.params.driver}), ${rounds} rounds, median wall time`,
	);
	out.push(
		`machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, load ${loadBefore[0]!.toFixed(2)} -> ${loadAfter[0]!.toFixed(2)}`,
	);
	out.push('');
	out.push(line(rows[0]!));
	for (const row of rows.slice(1)) out.push(line(row));
	out.push('');
	out.push(
		'targets apply to median wall time (vs base) and peak RSS; cpu = user+sys of the child, for reference (less sensitive to other load)',
	);
	for (const r of results)
		if (r.wallIs !== null) out.push(`${r.name}: wall ms = ${r.wallIs} (no ratio to the baseline)`);
	out.push(`baseline = sh -c "${baselineScript('ROOT')}"`);
	const failures = results.filter(r => r.failed.length);
	out.push(
		failures.length
			? `TARGETS MISSED: ${failures.map(r => `${r.name} (${r.failed.join('; ')})`).join(', ')}`
			: 'all targets met',
	);
	process.stdout.write(`${out.join('\n')}\n`);

	const json = {
		date: new Date().toISOString(),
		git: gitHead(),
		machine: {
			cpus: os.cpus().length,
			cpuModel: os.cpus()[0]?.model ?? null,
			memMB: Math.round(os.totalmem() / 2 ** 20),
			node: process.version,
			loadavgBefore: loadBefore,
			loadavgAfter: loadAfter,
		},
		state: {root: state.root, params: state.params, buildSeconds: state.buildSeconds},
		rounds,
		method: {
			wall: 'process.hrtime around spawnSync of the child (under GNU time), stdout to /dev/null; median over rounds, case order rotated each round, after one unmeasured warm-up run',
			cpu: 'GNU time %U + %S (user + system seconds of the child and its descendants); median over rounds; reported, no target',
			memory: 'GNU time %M (peak RSS in KB of the child and its descendants); the max over rounds',
			baseline: `sh -c "${baselineScript('ROOT')}"`,
			ui: 'ui-first-frame: the program in a 100x30 pty (util-linux script); wallMs = spawn to the first output with the status bar\'s "<N> containers ·"; extra: whole model in, redraw after each key (write to first output); ui-keys: measureUi in-process, wallMs = median key redraw (see bench/ui.ts)',
		},
		results: results.map(r => ({
			name: r.name,
			command: r.command,
			check: r.check,
			medianWallMs: Math.round(r.medianWallMs * 10) / 10,
			ratio: r.ratio === null ? null : Math.round(r.ratio * 100) / 100,
			medianCpuMs: r.medianCpuMs,
			cpuRatio: r.cpuRatio === null ? null : Math.round(r.cpuRatio * 100) / 100,
			peakRssMB: Math.round(r.peakRssMB * 10) / 10,
			wallIs: r.wallIs,
			extra: Object.fromEntries(Object.entries(r.extra).map(([k, v]) => [k, Math.round(v * 10) / 10])),
			targets: r.targets,
			pass: r.failed.length === 0,
			failed: r.failed,
			wallMs: r.samples.map(s => Math.round(s.wallMs * 10) / 10),
			cpuMs: r.samples.map(s => s.cpuMs),
			rssKB: r.samples.map(s => s.rssKB),
		})),
	};
	fs.writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
	process.stderr.write(`bench: wrote ${path.relative(process.cwd(), path.join(benchDir, 'results.json'))}\n`);
	return 0;
}

main().then(
	code => process.exit(code),
	(e: unknown) => {
		process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
		process.exit(1);
	},
);
