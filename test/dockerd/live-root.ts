import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {cleanup, dockerdAvailable, startDockerd, type Daemon} from '../helpers/dockerd.ts';
import {busyboxRootfsTar} from '../helpers/real-states.ts';
import {repo} from '../helpers/run-cli.ts';

// A live root: a real dockerd creates, starts, stops and removes containers in a loop while
// `check`, `model` and `files` read its --data-root in a loop (each under strace). No run may
// crash (exit 3, a stack trace), open anything outside the root (besides node itself and the
// system), or report an error finding that the same root does not have at rest; check looks
// again before calling a live root broken, and says when the root changed while it was read.

const bin = path.join(repo, 'bin', 'layerlens');
/** How many docker operations the churn makes (create, start, stop, rm, run -d, rm -f, …). */
const OPS = Number(process.env.LAYERLENS_LIVE_OPS ?? 96);
/** The whole test's budget for the churn phase. */
const CHURN_MS = 100_000;

type Run = {argv: string[]; code: number; stdout: string; stderr: string; opened: string[]; ms: number};

function spawnCollect(
	cmd: string,
	args: string[],
	env?: NodeJS.ProcessEnv,
): Promise<{code: number; stdout: string; stderr: string}> {
	return new Promise(resolve => {
		const child = spawn(cmd, args, {env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe']});
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		child.stdout.on('data', (b: Buffer) => out.push(b));
		child.stderr.on('data', (b: Buffer) => err.push(b));
		child.on('close', code =>
			resolve({
				code: code ?? -1,
				stdout: Buffer.concat(out).toString('utf8'),
				stderr: Buffer.concat(err).toString('utf8'),
			}),
		);
	});
}

const hasStrace = (() => {
	try {
		return fs.statSync('/usr/bin/strace').isFile();
	} catch {
		return false;
	}
})();

/**
 * Runs layerlens under `strace -f -y`, which names the file behind every descriptor a successful
 * open returns: the files it really opened, whatever path led there.
 */
async function layerlens(args: string[]): Promise<Run> {
	const t0 = Date.now();
	const trace = path.join(os.tmpdir(), `layerlens-live-${process.pid}-${Math.random().toString(36).slice(2)}.strace`);
	const env = {...process.env, NO_COLOR: '1'};
	const r = hasStrace
		? await spawnCollect(
				'strace',
				['-f', '-y', '-qq', '-e', 'trace=open,openat,openat2,execve', '-o', trace, process.execPath, bin, ...args],
				env,
			)
		: await spawnCollect(process.execPath, [bin, ...args], env);
	const opened: string[] = [];
	if (hasStrace) {
		for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
			const m = /= \d+<(.*)>$/.exec(line);
			if (m !== null) opened.push(m[1]!);
		}
		fs.rmSync(trace, {force: true});
	}
	return {argv: args, ...r, opened, ms: Date.now() - t0};
}

/** What a run may open besides the root: node, its libraries, the package, the system's files, pipes. */
function allowedOutside(p: string): boolean {
	const roots = [
		path.dirname(path.dirname(fs.realpathSync(process.execPath))),
		fs.realpathSync(repo),
		fs.realpathSync(path.join(repo, 'node_modules')),
		'/usr/',
		'/lib',
		'/etc/',
		'/proc/',
		'/sys/',
		'/dev/',
	];
	if (/^(pipe|socket|anon_inode):/.test(p) || p === '/' || p === '/dev/null') return true;
	return roots.some(r => p === r || p.startsWith(r.endsWith('/') ? r : `${r}/`));
}

/** Names a Docker root has at its top (dockerd 20.10 to 29). */
const topNames = new Set([
	'buildkit',
	'builder',
	'containerd',
	'containers',
	'engine-id',
	'image',
	'network',
	'overlay2',
	'overlay',
	'fuse-overlayfs',
	'vfs',
	'aufs',
	'btrfs',
	'plugins',
	'runtimes',
	'swarm',
	'tmp',
	'trust',
	'volumes',
]);

/**
 * Whether a file strace names is in the root. Through the native reader's private clone of the
 * root's mount (attached nowhere), the kernel names files from the clone's root, the data root:
 * `/` is the root, `/containers/<id>/config.v2.json` one of its files. Such a name counts as the
 * root's when the root has it (or, for what the churn removed since, when it starts with a name
 * of a Docker root's top that this machine's / does not have).
 */
function inRoot(p: string, root: string): boolean {
	if (p === root || p.startsWith(`${root}/`)) return true;
	if (!p.startsWith('/')) return false;
	if (fs.existsSync(p === '/' ? root : root + p)) return true;
	const first = p.split('/')[1] ?? '';
	return topNames.has(first) && !fs.existsSync(`/${first}`);
}

/** The error findings of a check --json or model output, as "code subject". */
function errorsOf(stdout: string): string[] {
	try {
		const j = JSON.parse(stdout) as {findings?: Array<{severity: string; code: string; subject: string}>};
		return (j.findings ?? []).filter(f => f.severity === 'error').map(f => `${f.code} ${f.subject}`);
	} catch {
		return ['(output is not JSON)'];
	}
}

let daemon: Daemon | null = null;

test.after(async () => {
	if (daemon !== null) await cleanup(daemon);
});

test('a live root: check, model and files during container churn do not crash, read only the root, and report no error that is not there at rest', async () => {
	const avail = dockerdAvailable();
	if (!avail.ok) {
		if (process.env.CI) assert.unreachable(avail.why);
		return console.log(`  (skipped: ${avail.why})`);
	}
	const started = Date.now();
	daemon = await startDockerd({driver: 'overlay2'});
	const d = daemon;
	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-live-rootfs-'));
	try {
		d.docker(['import', '-', 'local/busybox:1'], {input: busyboxRootfsTar(path.join(work, 'rootfs'))});
	} finally {
		fs.rmSync(work, {recursive: true, force: true});
	}
	// A container that stays (the files loop reads it) and one that keeps running.
	d.docker(['run', '--name', 'steady', 'local/busybox:1', 'sh', '-c', 'echo steady > /steady.txt']);
	d.docker(['run', '-d', '--name', 'runner', 'local/busybox:1', 'sleep', '1000']);
	const root = d.root;
	const docker = (args: string[]) =>
		spawnCollect('docker', ['-H', `unix://${d.socket}`, ...args], {
			...process.env,
			DOCKER_CONFIG: path.join(d.dir, 'client'),
		});

	// The churn: a few dozen operations, each one after the other, as fast as the daemon goes.
	let done = false;
	const ops: string[] = [];
	// Two loops at once, so that operations overlap as they do on a busy host.
	const churner = async (lane: number) => {
		const end = Date.now() + CHURN_MS;
		for (let i = 0; ops.length < OPS && Date.now() < end; i++) {
			const name = `churn${lane}_${i}`;
			const steps: string[][] =
				i % 3 === 2
					? [
							['run', '-d', '--name', name, 'local/busybox:1', 'sh', '-c', 'echo hi > /hi; sleep 30'],
							['rm', '-f', name],
						]
					: [
							['create', '--name', name, '-v', '/vol', 'local/busybox:1', 'sh', '-c', 'echo x > /x; sleep 30'],
							['start', name],
							['stop', '-t', '0', name],
							['rm', '-v', name],
						];
			for (const s of steps) {
				const r = await docker(s);
				ops.push(`${s.slice(0, 2).join(' ')} → ${r.code}`);
				if (r.code !== 0) throw new Error(`docker ${s.join(' ')}: ${r.stderr}`);
			}
		}
	};
	const churn = Promise.all([churner(0), churner(1)]).finally(() => {
		done = true;
	});

	// The readers: one loop per command, all at once with the churn.
	const runs: Run[] = [];
	const reader = async (args: string[]) => {
		while (!done) runs.push(await layerlens([...args, '--root', root]));
	};
	const readers = [reader(['check', '--json']), reader(['model']), reader(['files', 'steady'])];
	try {
		await churn;
	} finally {
		done = true;
		await Promise.all(readers);
	}
	const churnMs = Date.now() - started;

	// At rest (the daemon idle, nothing mid-operation): what the root really has.
	const rest = {
		check: await layerlens(['check', '--json', '--root', root]),
		model: await layerlens(['model', '--root', root]),
	};
	const restErrors = new Set([...errorsOf(rest.check.stdout), ...errorsOf(rest.model.stdout)]);

	const problems: string[] = [];
	let changedWhileRead = 0;
	for (const r of runs) {
		const what = `${r.argv.slice(0, 2).join(' ')} (${r.ms} ms)`;
		if (r.code === 3 || /\n\s+at .*:\d+:\d+\)?\n|internal error/.test(r.stderr))
			problems.push(`${what}: crashed: exit ${r.code}: ${r.stderr.slice(0, 400)}`);
		const outside = r.opened.filter(p => !inRoot(p, root) && !allowedOutside(p));
		if (outside.length > 0)
			problems.push(`${what}: opened outside the root: ${[...new Set(outside)].slice(0, 5).join(', ')}`);
		if (r.argv[0] === 'files' && r.code !== 0) problems.push(`${what}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
		if (r.argv[0] === 'check' || r.argv[0] === 'model') {
			const fresh = errorsOf(r.stdout).filter(e => !restErrors.has(e));
			if (fresh.length > 0)
				problems.push(`${what}: exit ${r.code}; errors not there at rest: ${fresh.slice(0, 5).join('; ')}`);
			if (r.argv[0] === 'check' && r.code !== 0 && restErrors.size === 0)
				problems.push(`${what}: exit ${r.code} on a root without errors at rest`);
			if (r.argv[0] === 'check' && r.stdout.includes('"root.changed-while-read"')) changedWhileRead++;
		}
	}
	if (process.env.LAYERLENS_LIVE_DUMP !== undefined)
		fs.writeFileSync(
			process.env.LAYERLENS_LIVE_DUMP,
			`${[...new Set(runs.flatMap(r => r.opened))].sort().join('\n')}\n`,
		);
	// The trace is not empty: every run opened files of the root (the check above proves something).
	if (hasStrace)
		assert.ok(
			runs.every(r =>
				r.opened.some(p => p !== '/' && !p.startsWith('/proc/') && inRoot(p, root) && !allowedOutside(p)),
			),
			'strace saw files of the root opened by every run',
		);
	const count = (c: string) => runs.filter(r => r.argv[0] === c).length;
	console.log(
		`  ${ops.length} docker operations in ${Math.round(churnMs / 1000)} s; ${count('check')} check, ${count('model')} model, ${count('files')} files runs; ${changedWhileRead} check runs said the root changed while read; at rest: ${restErrors.size} error(s)`,
	);
	assert.ok(ops.length >= 24, `only ${ops.length} docker operations`);
	assert.ok(
		count('check') >= 5 && count('model') >= 5 && count('files') >= 5,
		'every reader ran several times during the churn',
	);
	assert.is(rest.check.code, 0, `at rest, check: ${rest.check.stdout.slice(0, 2000)}`);
	assert.equal(problems, []);
	assert.ok(Date.now() - started < 180_000, `the test took ${Math.round((Date.now() - started) / 1000)} s`);
});

test.run();
