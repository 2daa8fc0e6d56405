// --containerd-root: Docker 29 on docker-ce/distro packaging uses the system containerd, whose root
// (/var/lib/containerd) is outside the Docker root. The option mounts that root (a directory or an
// archive) at containerd/daemon (src/sources/mounted-source.ts), where a dockerd-managed containerd
// keeps the same data. First the composite source and the option's rules on small trees; then a
// real dockerd 26 state (test/helpers/dockerd.ts, containerd image store) whose containerd/daemon
// is moved out after the daemon stopped, so the root looks like a docker-ce host's: without the
// option no chains and a finding naming it; with it (directory, or a .tar.gz) the same model,
// diff, export and check as the untouched root; nothing under either root written.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {helpText, parseCommandLine} from '../../src/args.ts';
import {watchCommand} from '../../src/commands/watch.ts';
import {loadCheckedModel, loadModel, openRoots, openSource} from '../../src/load.ts';
import type {Model} from '../../src/model/types.ts';
import {allParts} from '../../src/read/host.ts';
import {mountSource} from '../../src/sources/mounted-source.ts';
import type {Source} from '../../src/sources/source.ts';
import {type FeedState, type ModelFeed, startFeed} from '../../src/ui/feed.ts';
import {basicC8dRoot} from '../helpers/c8d-root.ts';
import {cleanup, docker26Available, type Daemon} from '../helpers/dockerd.ts';
import {describe, readTar} from '../helpers/files-compare.ts';
import {ll} from '../helpers/files-run.ts';
import {ageAtimes, atimes, fingerprint} from '../helpers/fingerprint.ts';
import {sharedDaemon} from '../helpers/shared-state.ts';

const C8D = 'containerd/daemon';
const noTrace = (s: string): void => assert.not.match(s, /\n\s+at .+:\d+:\d+/, 'no stack trace');
/** A usage error: exit 2, one line on stderr, nothing on stdout. */
function usageError(r: {code: number; stdout: string; stderr: string}, pattern: RegExp): void {
	assert.is(r.code, 2, r.stderr);
	assert.is(r.stdout, '');
	assert.is(r.stderr.split('\n').filter(l => l !== '').length, 1, r.stderr);
	assert.match(r.stderr, pattern);
	noTrace(r.stderr);
}
const tmp = (name: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-${name}-`));
function put(root: string, rel: string, content: string | Buffer = 'x'): void {
	fs.mkdirSync(path.dirname(path.join(root, rel)), {recursive: true});
	fs.writeFileSync(path.join(root, rel), content);
}
const json = (s: string) => JSON.parse(s) as Record<string, unknown> & {containerdRoot: unknown};

// ---- the composite source

test('mountSource: listing, stat and reads route by whole path components; the mount point appears even where the base has no directory', () => {
	const base = tmp('mount-base');
	const inner = tmp('mount-inner');
	try {
		put(base, 'containers/a/config.v2.json', '{}');
		put(inner, 'io.containerd.metadata.v1.bolt/meta.db', 'bolt');
		put(inner, 'a/b', 'inner b');
		fs.symlinkSync('/etc/passwd', path.join(inner, 'link'));
		const s = mountSource(openSource(base), C8D, openSource(inner));
		assert.equal(s.mounted, {at: C8D, location: inner, kind: 'dir'});
		assert.equal([s.kind, s.location], ['dir', base]);
		const names = (rel: string) => {
			const r = s.list(rel);
			return r.ok ? r.value.map(e => `${e.name}:${e.kind}`) : r.error.code;
		};
		assert.equal(names(''), ['containerd:dir', 'containers:dir'], 'containerd/ appears at the top');
		assert.equal(names('containerd'), ['daemon:dir'], 'and daemon/ in it');
		assert.equal(names(C8D), ['a:dir', 'io.containerd.metadata.v1.bolt:dir', 'link:symlink']);
		assert.equal(names(`${C8D}/a`), ['b:file']);
		assert.equal(names('containers'), ['a:dir']);
		const st = (rel: string) => {
			const r = s.stat(rel);
			return r.ok ? r.value.kind : `${r.error.code} ${r.error.path}`;
		};
		assert.equal(
			[st('containerd'), st(C8D), st(`${C8D}/a/b`), st(`${C8D}/link`), st('containers/a')],
			['dir', 'dir', 'file', 'symlink', 'dir'],
		);
		assert.is(st('containerd/daemonX'), 'missing containerd', "daemonX is not under daemon: the base's answer");
		assert.is(st(`${C8D}/nope/x`), `missing ${C8D}/nope`, 'an inner error names the path as it is shown');
		const read = (rel: string) => {
			const r = s.readFile(rel, 1 << 20);
			return r.ok ? r.value.toString() : `${r.error.code} ${r.error.path}`;
		};
		assert.is(read(`${C8D}/a/b`), 'inner b');
		assert.is(read(`${C8D}/./a//b`), 'inner b', 'normalised like any path');
		assert.is(read('containers/a/config.v2.json'), '{}');
		assert.is(read(`${C8D}/link`), `symlink ${C8D}/link`, 'no symlink followed in the mounted root');
		assert.is(read(`${C8D}/missing`), `missing ${C8D}/missing`);
		assert.match(read('containerd'), /^not-a-file /);
		for (const bad of [
			`${C8D}/../x`,
			`${C8D}/../../etc/passwd`,
			'../x',
			'/containerd/daemon/a/b',
			'containerd/../containerd/daemon/a/b',
		]) {
			assert.match(read(bad), /^bad-path /, bad);
			const l = s.list(bad);
			assert.ok(!l.ok && l.error.code === 'bad-path', bad);
			const t = s.stat(bad);
			assert.ok(!t.ok && t.error.code === 'bad-path', bad);
		}
		const link = s.readLink(`${C8D}/link`);
		assert.ok(link.ok && link.value === '/etc/passwd');
		const r = s.openRead!(`${C8D}/a/b`);
		assert.ok(r.ok);
		if (r.ok) {
			const buf = Buffer.alloc(16);
			const n = r.value.read(buf, 0);
			assert.ok(n.ok && buf.subarray(0, n.value).toString() === 'inner b');
			r.value.close();
		}
		assert.equal(Object.keys(s.xattrs?.(`${C8D}/a/b`) ?? {}), []);
	} finally {
		fs.rmSync(base, {recursive: true, force: true});
		fs.rmSync(inner, {recursive: true, force: true});
	}
});

test("mountSource: a base containerd/ keeps its other entries; containerd/daemonX stays the base's; a base file named containerd is hidden by the mount", () => {
	const base = tmp('mount-base');
	const inner = tmp('mount-inner');
	try {
		put(base, 'containers/.keep', '');
		put(base, 'containerd/daemonX/f', 'base f');
		put(base, 'containerd/containerd.toml', 'toml');
		fs.mkdirSync(path.join(base, C8D));
		put(inner, 'io.containerd.content.v1.content/blobs/sha256/aa', 'blob');
		const s = mountSource(openSource(base), C8D, openSource(inner));
		const l = s.list('containerd');
		assert.ok(l.ok);
		if (l.ok)
			assert.equal(l.value, [
				{name: 'containerd.toml', kind: 'file'},
				{name: 'daemon', kind: 'dir'},
				{name: 'daemonX', kind: 'dir'},
			]);
		const f = s.readFile('containerd/daemonX/f', 100);
		assert.ok(f.ok && f.value.toString() === 'base f', "a sibling with the mount point as prefix is the base's");
		const blob = s.readFile(`${C8D}/io.containerd.content.v1.content/blobs/sha256/aa`, 100);
		assert.ok(blob.ok && blob.value.toString() === 'blob');
		const top = s.stat('containerd');
		assert.ok(top.ok && top.value.kind === 'dir' && top.value.mtimeMs > 0, "the base's own directory");
		// A file where the mount point's parent should be: the mount shows a directory.
		fs.rmSync(path.join(base, 'containerd'), {recursive: true});
		put(base, 'containerd', 'a file');
		const s2 = mountSource(openSource(base), C8D, openSource(inner));
		const l2 = s2.list('containerd');
		assert.ok(l2.ok && l2.value.length === 1 && l2.value[0]!.name === 'daemon');
		const st = s2.stat('containerd');
		assert.ok(st.ok && st.value.kind === 'dir');
		// The base root itself unreadable stays an error.
		const s3 = mountSource(openSource(path.join(base, 'nope')), C8D, openSource(inner));
		const l3 = s3.list('');
		assert.ok(!l3.ok && l3.error.code === 'missing');
	} finally {
		fs.rmSync(base, {recursive: true, force: true});
		fs.rmSync(inner, {recursive: true, force: true});
	}
});

test('openRoots: a containerd root must look like one; a Docker root with its own non-empty containerd/daemon is refused; a missing path says so', async () => {
	const base = tmp('roots-base');
	const inner = tmp('roots-inner');
	try {
		put(base, 'containers/.keep', '');
		put(inner, 'io.containerd.metadata.v1.bolt/meta.db', 'x');
		let r = await openRoots(base, inner);
		assert.ok(r.ok && r.source.mounted?.location === inner);
		r = await openRoots(base, null);
		assert.ok(r.ok && r.source.mounted === undefined, 'no option: the root as it is');
		fs.mkdirSync(path.join(base, C8D), {recursive: true});
		r = await openRoots(base, inner);
		assert.ok(r.ok, 'an empty containerd/daemon is nothing to hide');
		put(base, `${C8D}/io.containerd.metadata.v1.bolt/meta.db`, 'y');
		r = await openRoots(base, inner);
		assert.ok(
			!r.ok && /has its own containerd store in containerd\/daemon\/.*--containerd-root would hide it/.test(r.error),
			r.ok ? '' : r.error,
		);
		fs.rmSync(path.join(base, 'containerd'), {recursive: true});
		r = await openRoots(base, path.join(inner, 'nope'));
		assert.ok(
			!r.ok && r.error === `--containerd-root ${path.join(inner, 'nope')}: no such directory or archive`,
			r.ok ? '' : r.error,
		);
		r = await openRoots(base, base);
		assert.ok(!r.ok && /not a containerd root/.test(r.error), 'a Docker root is not a containerd root');
		// An archive, wrapped in var/lib/containerd/: found by its io.containerd.* directories.
		const wrap = tmp('roots-wrap');
		const tgz = path.join(wrap, 'containerd.tgz');
		fs.mkdirSync(path.join(wrap, 'var/lib'), {recursive: true});
		fs.cpSync(inner, path.join(wrap, 'var/lib/containerd'), {recursive: true});
		execFileSync('tar', ['-czf', tgz, '-C', wrap, 'var']);
		r = await openRoots(base, tgz);
		assert.ok(r.ok && r.source.mounted?.kind === 'archive' && r.source.mounted.location === tgz);
		if (r.ok) {
			const meta = r.source.readFile(`${C8D}/io.containerd.metadata.v1.bolt/meta.db`, 100);
			assert.ok(meta.ok && meta.value.toString() === 'x');
			assert.equal((r.source as Source & {problems: string[]}).problems, []);
		}
		fs.rmSync(wrap, {recursive: true, force: true});
	} finally {
		fs.rmSync(base, {recursive: true, force: true});
		fs.rmSync(inner, {recursive: true, force: true});
	}
});

test('args: --containerd-root is a global option, in --help; compare refuses it', async () => {
	assert.match(helpText, /--containerd-root PATH/);
	assert.match(helpText, /Refused by\s+compare/);
	const a = tmp('cmp-a');
	try {
		usageError(await ll(['compare', a, a, '--containerd-root', a]), /--containerd-root does not apply to compare/);
		usageError(
			await ll(['tree', '--root', a, '--containerd-root', '']),
			/--containerd-root takes a directory or an archive/,
		);
	} finally {
		fs.rmSync(a, {recursive: true, force: true});
	}
});

// ---- a code-built containerd store, moved out of its Docker root

/** A root built in code (test/helpers/c8d-root.ts) and a copy of it whose containerd/daemon is in a directory of its own. */
function splitRoot() {
	const b = basicC8dRoot();
	b.r.save();
	const orig = b.r.dir;
	const base = tmp('c8d-split');
	fs.cpSync(orig, base, {recursive: true});
	const c8d = `${base}-containerd`;
	fs.renameSync(path.join(base, C8D), c8d);
	fs.rmdirSync(path.join(base, 'containerd'));
	return {
		...b,
		orig,
		base,
		c8d,
		remove() {
			b.r.remove();
			fs.rmSync(base, {recursive: true, force: true});
			fs.rmSync(c8d, {recursive: true, force: true});
		},
	};
}

/** The model JSON of a root, with `root` and `containerdRoot` set aside. */
async function modelOf(args: string[]) {
	const r = await ll(['model', ...args]);
	assert.is(r.code, 0, r.stderr);
	const m = json(r.stdout);
	return {m, rest: {...m, root: '', containerdRoot: null}};
}

test('code-built: without the option no chains and the finding names --containerd-root; with it the same model, tree, diff as the untouched root', async () => {
	const t = splitRoot();
	try {
		const without = loadModel(openSource(t.base)).model;
		assert.equal(
			without.containers.map(c => c.chain.length),
			[0],
		);
		const f = without.findings.find(x => x.code === 'layout.containerd-store')!;
		assert.match(
			f.message,
			/meta\.db is absent.*\/var\/lib\/containerd.*outside this Docker root.*pass --containerd-root \/var\/lib\/containerd \(or the copy of it/,
		);
		const orig = await modelOf(['--root', t.orig]);
		const mounted = await modelOf(['--root', t.base, '--containerd-root', t.c8d]);
		assert.equal(mounted.rest, orig.rest, 'the same model, paths shown under containerd/daemon');
		assert.is(orig.m.containerdRoot, null, 'null without the option');
		assert.equal(mounted.m.containerdRoot, {location: t.c8d, kind: 'dir', shownAs: C8D});
		const tree = await ll(['tree', '--root', t.base, '--containerd-root', t.c8d]);
		const treeLines = tree.stdout.split('\n');
		assert.is(
			treeLines[1],
			`containerd root ${t.c8d}  (--containerd-root; its paths are shown as containerd/daemon/…)`,
		);
		const origTree = (await ll(['tree', '--root', t.orig])).stdout.replaceAll(t.orig, 'R');
		assert.is(
			[treeLines[0], ...treeLines.slice(2)].join('\n').replaceAll(t.base, 'R'),
			origTree,
			'otherwise the same tree',
		);
		const tj = json((await ll(['tree', '--json', '--root', t.base, '--containerd-root', t.c8d])).stdout);
		assert.equal(tj.containerdRoot, {location: t.c8d, kind: 'dir', shownAs: C8D});
		for (const cmd of [
			['diff', 'web', '--json'],
			['files', 'web', '--json'],
			['inspect', 'web'],
			['check', '--json'],
		]) {
			const a = await ll([...cmd, '--root', t.orig]);
			const b = await ll([...cmd, '--root', t.base, '--containerd-root', t.c8d]);
			assert.is(b.code, a.code, `${cmd.join(' ')}: ${b.stderr}`);
			assert.is(b.stdout.replaceAll(t.base, 'R'), a.stdout.replaceAll(t.orig, 'R'), cmd.join(' '));
		}
	} finally {
		t.remove();
	}
});

test('code-built: --containerd-root without meta.db says so; export never writes inside the containerd root', async () => {
	const t = splitRoot();
	try {
		const bare = tmp('c8d-bare');
		fs.cpSync(
			path.join(t.c8d, 'io.containerd.content.v1.content'),
			path.join(bare, 'io.containerd.content.v1.content'),
			{recursive: true},
		);
		const r = await ll(['model', '--root', t.base, '--containerd-root', bare]);
		assert.is(r.code, 0, r.stderr);
		const f = (json(r.stdout).findings as Array<{code: string; message: string}>).filter(
			x => x.code === 'layout.containerd-store',
		);
		assert.equal(
			f.map(x => x.message),
			[
				`containers use the containerd snapshotter "overlayfs", but the containerd root given with --containerd-root (${bare}) has no io.containerd.metadata.v1.bolt/meta.db, so these containers show no layer chain`,
			],
		);
		fs.rmSync(bare, {recursive: true, force: true});
		usageError(
			await ll(['export', 'web', '-o', path.join(t.c8d, 'out.tar'), '--root', t.base, '--containerd-root', t.c8d]),
			/inside the containerd root being read/,
		);
		assert.not.ok(fs.existsSync(path.join(t.c8d, 'out.tar')));
		usageError(
			await ll(['export', 'web', '-o', path.join(t.base, 'out.tar'), '--root', t.base, '--containerd-root', t.c8d]),
			/inside the Docker root being read/,
		);
	} finally {
		t.remove();
	}
});

test('code-built: watch follows both roots (directories) and names the containerd root', async () => {
	const t = splitRoot();
	try {
		const parsed = parseCommandLine(['watch', '--root', t.base, '--containerd-root', t.c8d, '--interval', '50']);
		assert.ok(parsed.ok);
		if (!parsed.ok) return;
		let out = '';
		const io = {
			stdout: {write: (x: string | Buffer) => ((out += String(x)), true)},
			stderr: {write: () => true},
			env: {},
		};
		const stop = new AbortController();
		const running = watchCommand(parsed.args, io, t.base, stop.signal);
		await new Promise(r => setTimeout(r, 300));
		put(t.c8d, 'io.containerd.snapshotter.v1.overlayfs/snapshots/99/fs/x', 'x');
		await new Promise(r => setTimeout(r, 400));
		stop.abort();
		assert.is(await running, 0);
		assert.match(
			out.split('\n')[0]!,
			new RegExp(`^watching ${t.base} and the containerd root ${t.c8d} \\(shown as containerd/daemon/\\) every 50 ms`),
		);
		assert.match(out, /\+ containerd\/daemon\/io\.containerd\.snapshotter\.v1\.overlayfs\/snapshots\/99\/fs\/x/);
	} finally {
		t.remove();
	}
});

function until(feed: ModelFeed, ok: (s: FeedState) => boolean, ms = 20_000): Promise<FeedState> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`feed stuck in ${feed.get().phase}`)), ms);
		const check = () => {
			if (!ok(feed.get())) return;
			clearTimeout(timer);
			off();
			resolve(feed.get());
		};
		const off = feed.subscribe(check);
		check();
	});
}

test('interactive UI: the load worker opens both roots (directories); with an archive the model is read in this thread', async () => {
	const t = splitRoot();
	const tgz = `${t.c8d}.tar.gz`;
	try {
		const opened = await openRoots(t.base, t.c8d);
		assert.ok(opened.ok);
		if (!opened.ok) return;
		const feed = startFeed({
			source: opened.source,
			parts: allParts,
			load: () => assert.unreachable('no in-process read') as never,
		});
		assert.is(feed.mode(), 'worker');
		const full = await until(feed, s => s.phase === 'full' || s.phase === 'failed');
		feed.close();
		assert.ok(full.phase === 'full', full.phase);
		if (full.phase !== 'full') return;
		const expected = loadCheckedModel(opened.source, allParts).model;
		assert.equal(full.model.containerdRoot, {location: t.c8d, kind: 'dir', shownAs: C8D});
		assert.equal(
			full.model.containers.map(c => c.chain.map(e => e.path)),
			expected.containers.map(c => c.chain.map(e => e.path)),
		);
		assert.is(full.model.containers[0]!.chain.length, 4);
		assert.equal(full.model.findings, expected.findings);
		execFileSync('tar', ['-czf', tgz, '-C', t.c8d, '.']);
		const archived = await openRoots(t.base, tgz);
		assert.ok(archived.ok);
		if (!archived.ok) return;
		const feed2 = startFeed({source: archived.source, parts: allParts, load: loadCheckedModel});
		assert.is(feed2.mode(), 'in-process');
		feed2.start();
		const s = feed2.get();
		assert.ok(
			s.phase === 'full' && s.model.containers[0]!.chain.length === 4 && s.model.containerdRoot?.kind === 'archive',
		);
	} finally {
		fs.rmSync(tgz, {force: true});
		t.remove();
	}
});

// ---- a real dockerd 26 (containerd image store), its containerd root moved out

type State = {
	daemon: Daemon;
	/** The Docker root, without containerd/ after the move (a docker-ce host using the system containerd). */
	root: string;
	/** What was <root>/containerd/daemon. */
	c8d: string;
	/** A .tar.gz of it, wrapped in var/lib/containerd/. */
	tgz: string;
	out: string;
	names: string[];
	/** What layerlens said on the untouched root, before the move. */
	orig: {
		model: Record<string, unknown>;
		diffs: Record<string, string>;
		files: Record<string, string>;
		exports: Record<string, string[]>;
		check: string;
		tree: string;
	};
	before: {
		root: Map<string, string>;
		c8d: Map<string, string>;
		rootAtimes: Map<string, number>;
		c8dAtimes: Map<string, number>;
		tgz: string;
	};
};

let state: State | undefined;
const avail = docker26Available();

const tgzPrint = (file: string): string => {
	const st = fs.statSync(file);
	return `${st.size} ${st.mtimeMs} ${st.mode}`;
};

async function exported(name: string, root: string[], out: string): Promise<string[]> {
	const file = path.join(out, `${name}-${Math.random().toString(36).slice(2)}.tar`);
	const e = await ll(['export', name, '-o', file, ...root]);
	assert.is(e.code, 0, e.stderr);
	const d = describe(readTar(file));
	fs.rmSync(file);
	return d;
}

async function makeState(): Promise<State> {
	// The standard state (made once per run), on a daemon of this suite's own, stopped.
	const {daemon} = await sharedDaemon('overlayfs');
	try {
		await daemon.stop();
		const root = daemon.root;
		// Reads update access times (relatime) when they are older than the modification time: age
		// them now, so that any read from here on shows (layerlens, as root, reads with O_NOATIME).
		ageAtimes(root);
		const out = path.join(daemon.dir, 'out');
		fs.mkdirSync(out, {recursive: true});
		const at = ['--root', root];
		const model = json((await ll(['model', ...at])).stdout);
		const names = (model.containers as Array<{name: string}>).map(c => c.name).sort();
		const diffs: Record<string, string> = {};
		const files: Record<string, string> = {};
		const exports: Record<string, string[]> = {};
		for (const name of names) {
			diffs[name] = (await ll(['diff', name, '--json', ...at])).stdout;
			files[name] = (await ll(['files', name, '--json', ...at])).stdout;
			exports[name] = await exported(name, at, out);
		}
		const check = (await ll(['check', '--json', ...at])).stdout;
		const tree = (await ll(['tree', ...at])).stdout;
		// What a docker-ce host using the system containerd has: no containerd/ in the Docker root.
		const c8d = path.join(daemon.dir, 'system-containerd');
		fs.renameSync(path.join(root, C8D), c8d);
		if (fs.readdirSync(path.join(root, 'containerd')).length === 0) fs.rmdirSync(path.join(root, 'containerd'));
		// Its archive, as a copy taken from a host would be: members under var/lib/containerd/ (symlink targets kept).
		const tgz = path.join(out, 'containerd.tar.gz');
		execFileSync('tar', [
			'--xattrs',
			'--xattrs-include=*',
			'--numeric-owner',
			'--atime-preserve=system',
			'--transform=s,^\\.,var/lib/containerd,S',
			'-czf',
			tgz,
			'-C',
			c8d,
			'.',
		]);
		const before = {
			rootAtimes: atimes(root),
			c8dAtimes: atimes(c8d),
			root: fingerprint(root),
			c8d: fingerprint(c8d),
			tgz: tgzPrint(tgz),
		};
		return {daemon, root, c8d, tgz, out, names, orig: {model, diffs, files, exports, check, tree}, before};
	} catch (e) {
		await cleanup(daemon);
		throw e;
	}
}

if (!avail.ok) {
	test('--containerd-root with a real dockerd 26 (needs root, dockerd, scripts/fetch-docker26.sh)', () => {
		if (process.env.CI) assert.unreachable(`dockerd 26 cannot run in CI: ${avail.why}`);
		console.log(`  skip: --containerd-root e2e: ${avail.why}`);
	});
} else {
	test.before(async () => {
		state = await makeState();
	});
	test.after(async () => {
		if (state !== undefined) await cleanup(state.daemon);
	});

	test('dockerd 26, containerd/daemon moved out: no chains, and the finding names --containerd-root', async () => {
		const s = state!;
		const r = await ll(['model', '--root', s.root]);
		assert.is(r.code, 0, r.stderr);
		const m = JSON.parse(r.stdout) as Model;
		assert.is(m.containers.length, s.names.length);
		assert.ok(
			m.containers.every(c => c.chain.length === 0),
			'no layer chain',
		);
		assert.is(m.images.length, 0);
		const f = m.findings.filter(x => x.code === 'layout.containerd-store');
		assert.is(f.length, 1);
		assert.match(f[0]!.message, /pass --containerd-root \/var\/lib\/containerd/);
		const tree = await ll(['tree', '--root', s.root]);
		assert.is(tree.code, 0);
		assert.match(tree.stdout, /--containerd-root \/var\/lib\/containerd/);
	});

	test("dockerd 26 with --containerd-root DIR: the model (ids, chains, images, tags, findings) is the untouched root's", async () => {
		const s = state!;
		const {m, rest} = await modelOf(['--root', s.root, '--containerd-root', s.c8d]);
		assert.equal(m.containerdRoot, {location: s.c8d, kind: 'dir', shownAs: C8D});
		assert.equal(rest, {...s.orig.model, root: '', containerdRoot: null});
		const model = m as unknown as Model;
		assert.ok(
			model.containers.length >= 5 && model.containers.every(c => c.chain.length >= 3),
			'every container has RW, init and image layers',
		);
		assert.ok(model.images.some(i => i.tags.includes('local/app:1')));
		const tree = (await ll(['tree', '--root', s.root, '--containerd-root', s.c8d])).stdout.split('\n');
		assert.match(
			tree[1]!,
			/^containerd root .*system-containerd {2}\(--containerd-root; its paths are shown as containerd\/daemon\/…\)$/,
		);
		assert.is([tree[0], ...tree.slice(2)].join('\n'), s.orig.tree);
	});

	test("dockerd 26 with --containerd-root DIR: diff, files, export and check are the untouched root's", async () => {
		const s = state!;
		const at = ['--root', s.root, '--containerd-root', s.c8d];
		for (const name of s.names) {
			const d = await ll(['diff', name, '--json', ...at]);
			assert.is(d.code, 0, d.stderr);
			assert.is(d.stdout, s.orig.diffs[name], `${name}: diff`);
			assert.is((await ll(['files', name, '--json', ...at])).stdout, s.orig.files[name], `${name}: files`);
			assert.equal(await exported(name, at, s.out), s.orig.exports[name], `${name}: export`);
		}
		const changed = JSON.parse(s.orig.diffs.app_exited!) as {changes: Array<{kind: string; path: string}>};
		assert.ok(
			changed.changes.some(c => c.kind === 'A' && c.path === '/new.txt') && changed.changes.some(c => c.kind === 'D'),
			'a diff with additions and deletions',
		);
		const c = await ll(['check', '--json', ...at]);
		assert.is(c.code, 0, c.stderr);
		assert.is(c.stdout, s.orig.check);
		const cat = await ll(['cat', 'app_exited', '/new.txt', ...at]);
		assert.is(cat.stdout, 'hi\n');
	});

	test('dockerd 26 with --containerd-root ARCHIVE (.tar.gz, in var/lib/containerd/): the same model and diff', async () => {
		const s = state!;
		const at = ['--root', s.root, '--containerd-root', s.tgz];
		const {m, rest} = await modelOf(at);
		assert.equal(m.containerdRoot, {location: s.tgz, kind: 'archive', shownAs: C8D});
		assert.equal(rest, {...s.orig.model, root: '', containerdRoot: null});
		for (const name of ['app_exited', 'app_stopped']) {
			const d = await ll(['diff', name, '--json', ...at]);
			assert.is(d.code, 0, d.stderr);
			assert.is(d.stdout, s.orig.diffs[name], `${name}: diff from the archive`);
		}
		assert.equal(await exported('app_exited', at, s.out), s.orig.exports.app_exited, 'export from the archive');
		const tree = (await ll(['tree', ...at])).stdout.split('\n');
		assert.match(tree[1]!, /^containerd root .*containerd\.tar\.gz \(archive\)/);
	});

	test('dockerd 26: refused with exit 2 and one line: a root that still has its containerd/daemon; a path that does not exist', async () => {
		const s = state!;
		const both = tmp('c8d-both');
		try {
			// Hard links: the files are not read (their access times stay as they are).
			execFileSync('cp', ['-al', `${s.root}/.`, both]);
			fs.mkdirSync(path.join(both, 'containerd'));
			execFileSync('cp', ['-al', s.c8d, path.join(both, C8D)]);
			usageError(
				await ll(['tree', '--root', both, '--containerd-root', s.c8d]),
				/has its own containerd store in containerd\/daemon\/.*leave the option out/,
			);
			const back = await modelOf(['--root', both]);
			assert.equal(
				back.rest,
				{...s.orig.model, root: '', containerdRoot: null},
				'put back, it is the untouched root again',
			);
		} finally {
			fs.rmSync(both, {recursive: true, force: true});
		}
		usageError(
			await ll(['tree', '--root', s.root, '--containerd-root', path.join(s.out, 'nope')]),
			/--containerd-root .*nope: no such directory or archive/,
		);
		usageError(await ll(['ls', '--root', s.root, '--containerd-root', s.root]), /not a containerd root/);
	});

	test('dockerd 26: nothing under either root (nor the archive) was written, not even an access time', async () => {
		const s = state!;
		const dirs = ['--root', s.root, '--containerd-root', s.c8d];
		const tgz = ['--root', s.root, '--containerd-root', s.tgz];
		for (const at of [dirs, tgz]) {
			for (const args of [
				['tree'],
				['ls'],
				['images'],
				['model'],
				['inspect', 'app_exited'],
				['inspect', 'local/app:1'],
				['graph'],
				['timeline', '--files'],
				['check', '--deep'],
				['files', 'app_exited'],
				['cat', 'app_exited', '/new.txt'],
			]) {
				const r = await ll([...args, ...at]);
				assert.ok(r.code === 0 || (args[0] === 'check' && r.code === 1), `${args.join(' ')}: ${r.code} ${r.stderr}`);
			}
		}
		// Access times first: the fingerprint reads every file.
		assert.equal([...atimes(s.root)], [...s.before.rootAtimes], 'access times under the Docker root');
		assert.equal([...atimes(s.c8d)], [...s.before.c8dAtimes], 'access times under the containerd root');
		assert.equal([...fingerprint(s.root)], [...s.before.root], 'the Docker root');
		assert.equal([...fingerprint(s.c8d)], [...s.before.c8d], 'the containerd root');
		assert.is(tgzPrint(s.tgz), s.before.tgz, 'the archive');
		// The access-time check is not empty: a plain read does update them here.
		const probe = path.join(s.c8d, 'io.containerd.metadata.v1.bolt', 'meta.db');
		fs.readFileSync(probe);
		if (fs.statSync(probe).atimeMs === s.before.c8dAtimes.get('io.containerd.metadata.v1.bolt/meta.db'))
			console.log(
				'  (note: this file system does not update access times on read; the access-time check proves less here)',
			);
	});
}

test.run();
