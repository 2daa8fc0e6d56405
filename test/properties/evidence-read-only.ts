import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {dockerdAvailable, mountsUnder, cleanup, type Daemon} from '../helpers/dockerd.ts';
import {ageAll, differences, readTree, statAll, type Tree} from '../helpers/fingerprint.ts';
import {sharedDaemon} from '../helpers/shared-state.ts';
import {cli, repo} from '../helpers/run-cli.ts';
import {mountScratch, scratchUnavailable, type ScratchFs, type ScratchKind} from '../helpers/scratch-fs.ts';
import {hasTmux, TmuxSession} from '../helpers/tmux.ts';

// Never change the evidence, exactly. On a copy of a real dockerd state (running, stopped and
// never-started containers, images, a named and an anonymous volume, logs; the daemon killed
// while one container ran) and of the sample, on a tmpfs mounted strictatime and on an ext4 image
// mounted relatime, with every access time aged to 1970 first: every path's type, mode, owner,
// size, inode, links, device, atime, mtime, ctime (nanoseconds) and xattrs are the same after
// every command, directories and symlinks included, and so are every file's bytes and every
// link's target. So is the archive of the state (its own atime too). No tolerance: a single
// nanosecond of atime on a single directory fails, with the command and the paths.

const bin = path.join(repo, 'bin', 'layerlens');
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-evidence-out-'));
process.on('exit', () => fs.rmSync(outside, {recursive: true, force: true}));

type Refs = {
	container?: string;
	containerId?: string;
	mountId?: string;
	image?: string;
	layer?: string;
	volume?: string;
	network?: string;
	file?: string;
};

/** Names to address in a root, from its model (read before the ageing). */
function refsOf(root: string): Refs {
	const r = cli(['model', '--root', root]);
	if (r.code !== 0) throw new Error(`model --root ${root}: exit ${r.code}: ${r.stderr}`);
	const m = JSON.parse(r.stdout) as {
		containers: Array<{id: string; name: string | null; status: string; mountId: string | null}>;
		images: Array<{id: string}>;
		layers: Array<{chainId: string}>;
		volumes: Array<{name: string}>;
		networks: Array<{name: string}>;
	};
	// A container that ran: its RW layer has files (the running one first).
	const c =
		m.containers.find(x => x.status === 'running') ?? m.containers.find(x => x.status === 'exited') ?? m.containers[0];
	const refs: Refs = {};
	if (c !== undefined) {
		refs.container = c.name ?? c.id;
		refs.containerId = c.id.slice(0, 12);
		if (c.mountId !== null) refs.mountId = c.mountId;
		const files = cli(['files', refs.container, '--json', '--root', root]);
		const file =
			files.code === 0
				? (JSON.parse(files.stdout) as {entries?: Array<{path: string; kind: string}>}).entries?.find(
						e => e.kind === 'file',
					)?.path
				: undefined;
		if (file !== undefined) refs.file = file;
	}
	if (m.images[0] !== undefined) refs.image = m.images[0].id;
	if (m.layers[0] !== undefined) refs.layer = m.layers[0].chainId;
	if (m.volumes[0] !== undefined) refs.volume = m.volumes[0].name;
	if (m.networks[0] !== undefined) refs.network = m.networks[0].name;
	return refs;
}

/** Every command that reads a root, as scripts run them (the explorer and watch are added by the test). Add new commands here. */
function everyCommand(root: string, refs: Refs, tag: string): string[][] {
	const c = refs.container;
	const out = (name: string) => path.join(outside, `${tag}-${name}`);
	const lists: Array<string[] | false> = [
		[],
		['--json'],
		['model'],
		['ls'],
		['ls', '--json'],
		['images'],
		['images', '--json'],
		['tree'],
		['tree', '--json'],
		['tree', '--explain'],
		c !== undefined && ['tree', c],
		...(['container', 'containerId', 'image', 'layer', 'volume', 'network'] as const).map(
			k => refs[k] !== undefined && ['inspect', refs[k]!],
		),
		c !== undefined && ['inspect', c, '--provenance'],
		c !== undefined && ['inspect', c, '--provenance', '--json'],
		c !== undefined && ['inspect', c, '--explain'],
		refs.image !== undefined && ['inspect', refs.image, '--explain'],
		['graph'],
		['graph', '--format', 'mermaid'],
		c !== undefined && ['graph', c],
		['timeline'],
		['timeline', '--format', 'jsonl'],
		['timeline', '--format', 'csv'],
		['timeline', '--json'],
		['timeline', '--files'],
		['timeline', '--logs'],
		['timeline', '--files', '--logs', '--format', 'csv'],
		['check'],
		['check', '--json'],
		['check', '--deep'],
		c !== undefined && ['files', c],
		c !== undefined && ['files', c, '--json'],
		refs.image !== undefined && ['files', refs.image],
		refs.layer !== undefined && ['files', refs.layer],
		refs.layer !== undefined && ['files', refs.layer, '--tar-split'],
		c !== undefined && ['diff', c],
		c !== undefined && ['diff', c, '--json'],
		c !== undefined && refs.file !== undefined && ['cat', c, refs.file],
		c !== undefined && ['export', c, '-o', out('c.tar')],
		c !== undefined && ['export', c, '-o', out('c-hash.tar'), '--hash'],
		refs.image !== undefined && ['export', refs.image, '-o', out('i.tar')],
		// A container named by its RW layer's cache id; the owner of paths; wasted space per image.
		refs.mountId !== undefined && ['tree', refs.mountId],
		refs.mountId !== undefined && ['inspect', `${refs.mountId}-init`],
		refs.mountId !== undefined && ['files', refs.mountId],
		['which', 'containers', 'image'],
		['which', '--json', '.', 'containers'],
		['space'],
		['space', '--json'],
	];
	return lists.filter((a): a is string[] => a !== false).map(a => [...a, '--root', root]);
}

type Step = {
	readonly argv: readonly string[];
	readonly code: number;
	readonly stderr: string;
	readonly changed: readonly string[];
};

/** Runs a step, then looks at every path: what this step changed (against the state before it). */
function step(
	argv: readonly string[],
	run: () => {code: number; stderr: string},
	top: string,
	tree: Tree,
	prev: {stats: Map<string, string>},
): Step {
	const r = run();
	const stats = statAll(top, tree.paths);
	const changed = differences(prev.stats, stats);
	prev.stats = stats;
	return {argv, code: r.code, stderr: r.stderr, changed};
}

/** The explorer on a terminal (tmux): open, move, expand, quit. */
async function explorer(root: string): Promise<{code: number; stderr: string}> {
	const t = new TmuxSession(`sh -c '${process.execPath} ${bin} --root ${root}; echo "EXITED $?"; sleep 600'`, 120, 40);
	try {
		await t.waitFor(/containers \(\d+\)[\s\S]*findings/, 30_000);
		await new Promise(r => setTimeout(r, 500));
		t.keys('Enter');
		await new Promise(r => setTimeout(r, 300));
		t.keys('Down');
		t.keys('Down');
		t.keys('Enter');
		await new Promise(r => setTimeout(r, 500));
		t.type('q');
		const s = await t.waitFor(/EXITED \d+/, 15_000);
		return {code: Number(/EXITED (\d+)/.exec(s)![1]), stderr: ''};
	} catch (e) {
		return {code: -1, stderr: (e as Error).message};
	} finally {
		t.kill();
	}
}

/** watch on a directory root for a moment, stopped with SIGINT as Ctrl-C would. */
function watchBriefly(root: string): {code: number; stderr: string} {
	const r = spawnSync(process.execPath, [bin, 'watch', '--interval', '200', '--root', root], {
		encoding: 'utf8',
		timeout: 2500,
		killSignal: 'SIGINT',
	});
	// Stopped by our SIGINT: the exit status is the command's own (0/130) or the signal.
	return {code: r.status ?? (r.signal === 'SIGINT' ? 0 : -1), stderr: r.stderr};
}

// The real state: made once, then copied onto each scratch file system.
let state: {daemon: Daemon; root: string} | null = null;
let skipWhy: string | null = null;

async function makeRealState(): Promise<{daemon: Daemon; root: string}> {
	// The standard state (made once per run), on a daemon of this suite's own.
	const {daemon} = await sharedDaemon('overlay2');
	try {
		const d = daemon.docker;
		d(['volume', 'create', 'evidence_vol']);
		d([
			'run',
			'--name',
			'vol_user',
			'-v',
			'evidence_vol:/data',
			'local/busybox:1',
			'sh',
			'-c',
			'echo kept > /data/kept.txt; echo wrote; echo warn >&2',
		]);
		// Running when the daemon dies: its config still says running, its logs are open.
		d([
			'run',
			'-d',
			'--name',
			'running_c',
			'-v',
			'/anon',
			'local/busybox:1',
			'sh',
			'-c',
			'echo up; echo x > /anon/x; echo y > /y; exec sleep 1000',
		]);
		const pid = Number(d(['inspect', '-f', '{{.State.Pid}}', 'running_c']).trim());
		for (let i = 0; i < 50 && !d(['logs', 'running_c']).includes('up'); i++) await new Promise(r => setTimeout(r, 100));
		process.kill(daemon.pid, 'SIGKILL');
		await daemon.stop();
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			// Already gone with its shim.
		}
		// What stays mounted after a crash (the RW layer's merged view, shm) is not part of the copy.
		for (const mp of mountsUnder(daemon.root)) spawnSync('umount', ['-l', mp]);
		return {daemon, root: daemon.root};
	} catch (e) {
		await cleanup(daemon);
		throw e;
	}
}

test.before(async () => {
	const why = dockerdAvailable();
	if (!why.ok) {
		skipWhy = why.why;
		return;
	}
	state = await makeRealState();
	// Interrupted (SIGINT): the state's folder goes too (its mounts are already undone).
	const dir = state.daemon.dir;
	process.on('exit', () => fs.rmSync(dir, {recursive: true, force: true}));
});

test.after(async () => {
	if (state !== null) await cleanup(state.daemon);
});

/** Copies both states onto the scratch fs and archives the real one there; returns the roots. */
function populate(s: ScratchFs, realRoot: string): {real: string; sample: string; archive: string} {
	const real = path.join(s.dir, 'docker');
	const run = (cmd: string, args: string[]) => {
		const r = spawnSync(cmd, args, {encoding: 'utf8'});
		if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
	};
	run('cp', ['-a', realRoot, real]);
	fs.mkdirSync(path.join(s.dir, 'sample'));
	run('tar', [
		'--xattrs',
		'--xattrs-include=*',
		'--numeric-owner',
		'-xpzf',
		path.join(repo, 'sample', 'docker.tar.gz'),
		'-C',
		path.join(s.dir, 'sample'),
	]);
	const archive = path.join(s.dir, 'docker.tgz');
	run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-czf', archive, '-C', s.dir, 'docker']);
	return {real, sample: path.join(s.dir, 'sample', 'docker'), archive};
}

/** Proves the file system updates access times on a plain read, of a file and of a directory: the test can fail here. */
function probe(s: ScratchFs): void {
	const dir = path.join(s.dir, 'probe');
	fs.mkdirSync(dir);
	fs.writeFileSync(path.join(dir, 'f'), 'x');
	ageAll(s.dir, ['probe', 'probe/f']);
	fs.readdirSync(dir);
	fs.readFileSync(path.join(dir, 'f'));
	assert.is.not(
		fs.lstatSync(dir, {bigint: true}).atimeNs,
		0n,
		`${s.kind}: readdir does not update a directory's aged atime here: the test would prove nothing`,
	);
	assert.is.not(
		fs.lstatSync(path.join(dir, 'f'), {bigint: true}).atimeNs,
		0n,
		`${s.kind}: read does not update a file's aged atime here`,
	);
}

const results = new Map<ScratchKind, Step[]>();

for (const kind of ['tmpfs-strictatime', 'ext4-relatime'] as const) {
	test(`${kind}: every command leaves every path (directories, symlinks, the archive) exactly as it was, atime included`, async () => {
		if (skipWhy !== null) return console.log(`  (skipped: ${skipWhy})`);
		const unavailable = scratchUnavailable(kind);
		if (unavailable !== null) {
			if (process.env.CI) assert.unreachable(`${kind}: ${unavailable}`);
			return console.log(`  (skipped: ${unavailable})`);
		}
		const s = mountScratch(kind);
		try {
			assert.match(
				s.options,
				kind === 'ext4-relatime' ? /\brelatime\b/ : /^(?!.*\b(?:relatime|noatime|nodiratime)\b)/,
				`${kind}: mount options ${s.options}`,
			);
			const roots = populate(s, state!.root);
			probe(s);
			const refs = {real: refsOf(roots.real), sample: refsOf(roots.sample), archive: refsOf(roots.archive)};
			assert.ok(
				refs.real.container !== undefined && refs.real.volume !== undefined,
				'the real state has containers and volumes',
			);
			const skip = (rel: string) => rel === 'probe' || rel.startsWith('probe/');
			const tree = readTree(s.dir, skip);
			ageAll(s.dir, tree.paths);
			const start = statAll(s.dir, tree.paths);
			const prev = {stats: start};
			const steps: Step[] = [];
			for (const [tag, root] of Object.entries(roots) as Array<[keyof typeof roots, string]>) {
				for (const argv of everyCommand(root, refs[tag], `${kind}-${tag}`))
					steps.push(step(argv, () => cli(argv), s.dir, tree, prev));
				if (tag !== 'archive') steps.push(step(['watch', '--root', root], () => watchBriefly(root), s.dir, tree, prev));
			}
			steps.push(
				step(
					['compare', roots.real, roots.archive],
					() => cli(['compare', roots.real, roots.archive]),
					s.dir,
					tree,
					prev,
				),
			);
			steps.push(
				step(
					['compare', roots.sample, roots.real],
					() => cli(['compare', roots.sample, roots.real]),
					s.dir,
					tree,
					prev,
				),
			);
			// The explorer (async): after the others, each on its own.
			if (hasTmux()) {
				for (const root of [roots.real, roots.sample, roots.archive]) {
					const r = await explorer(root);
					const stats = statAll(s.dir, tree.paths);
					steps.push({
						argv: ['(explorer in tmux)', '--root', root],
						code: r.code,
						stderr: r.stderr,
						changed: differences(prev.stats, stats),
					});
					prev.stats = stats;
				}
			}
			results.set(kind, steps);
			// Exact: the state after everything is the state before, path by path.
			const total = differences(start, prev.stats);
			const after = readTree(s.dir, skip);
			const report = steps
				.filter(st => st.changed.length > 0)
				.map(
					st =>
						`  ${st.argv.join(' ')}: ${st.changed.length} path(s) changed\n${st.changed
							.slice(0, 8)
							.map(l => `      ${l}`)
							.join('\n')}`,
				)
				.join('\n');
			const kinds = summarize(total, start);
			assert.equal(after.paths, tree.paths, `${kind}: paths added or removed`);
			assert.equal([...after.content], [...tree.content], `${kind}: file contents or link targets changed`);
			assert.ok(
				total.length === 0,
				`${kind}: the evidence changed: ${total.length} path(s) (${kinds}); by command:\n${report}`,
			);
		} finally {
			s.dispose();
		}
	});
}

/** How many of the changed paths are directories, files, symlinks, and which fields changed. */
function summarize(lines: readonly string[], start: ReadonlyMap<string, string>): string {
	const count = new Map<string, number>();
	for (const l of lines) {
		const rel = l.slice(0, l.indexOf(': '));
		const mode =
			/mode=0(\d+)/.exec(start.get(rel === '.' ? '' : Buffer.from(rel, 'utf8').toString('latin1')) ?? '')?.[1] ?? '';
		const type = mode.startsWith('40')
			? 'dir'
			: mode.startsWith('120')
				? 'symlink'
				: mode.startsWith('100')
					? 'file'
					: 'other';
		const fields = [...l.slice(l.indexOf(': ') + 2).matchAll(/(?:^|, )(\w+) /g)].map(m => m[1]).join('+');
		const k = `${type} ${fields}`;
		count.set(k, (count.get(k) ?? 0) + 1);
	}
	return [...count].map(([k, n]) => `${n} ${k}`).join(', ');
}

test('every command ran to its end on every root (no crash, no usage error)', () => {
	if (results.size === 0) return console.log('  (skipped: no scratch file system here)');
	const bad: string[] = [];
	for (const [kind, steps] of results) {
		for (const st of steps) {
			const isCheck = st.argv[0] === 'check';
			if (st.code === 0 || (isCheck && st.code === 1)) continue;
			bad.push(
				`${kind}: ${st.argv.join(' ')}: exit ${st.code}: ${st.stderr.trim().split('\n').slice(0, 3).join(' | ')}`,
			);
		}
	}
	assert.equal(bad, []);
});

test.run();
