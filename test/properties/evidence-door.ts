import {type ChildProcess, execFileSync, spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {openDirSource} from '../../src/sources/dir-source.ts';
import {loadDoor} from '../../src/sources/door.ts';
import {encodeName} from '../../src/formats/names.ts';
import type {Source} from '../../src/sources/source.ts';
import {cli, repo} from '../helpers/run-cli.ts';

// The one door to the evidence (src/sources/door.ts, native/door.c): built and used; the same
// answers as node:fs on a real state; no symlink followed at any path component even while a
// directory is swapped for a symlink in a tight loop; not one access time changed, directories
// included, on tmpfs strictatime and ext4 relatime; the node:fs fallback says what it loses.

const isRoot = process.getuid?.() === 0;
/** The ways the door can run (LAYERLENS_DOOR, door.ts): openat2 or the openat walk, through the private read-only mount or not. */
const modes = ['', 'walk', 'unsealed', 'walk,unsealed'];
const marker = 'OUTSIDE-THE-ROOT-MARKER';

/** Everything this test made (mounts, loop files, directories), undone in finally blocks and on SIGINT. */
const cleanups: Array<() => void> = [];
function cleanupAll(): void {
	while (cleanups.length > 0) {
		try {
			cleanups.pop()!();
		} catch {
			// keep undoing the rest
		}
	}
}
process.on('SIGINT', () => {
	cleanupAll();
	process.exit(130);
});
process.on('exit', cleanupAll);

function tempDir(prefix: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
	cleanups.push(() => fs.rmSync(dir, {recursive: true, force: true}));
	return dir;
}

/** The sample (a real overlay2 state) extracted into dir/docker, xattrs and owners kept. */
function extractSample(dir: string): string {
	execFileSync('tar', [
		'--xattrs',
		'--xattrs-include=*',
		'--numeric-owner',
		'-xpzf',
		path.join(repo, 'sample', 'docker.tar.gz'),
		'-C',
		dir,
	]);
	return path.join(dir, 'docker');
}

function withDoorMode<T>(mode: string, f: () => T): T {
	const saved = process.env.LAYERLENS_DOOR;
	process.env.LAYERLENS_DOOR = mode;
	try {
		return f();
	} finally {
		if (saved === undefined) delete process.env.LAYERLENS_DOOR;
		else process.env.LAYERLENS_DOOR = saved;
	}
}

/** The RW layer directory of a container of the sample, by name. */
function rwLayer(root: string, name: string): string {
	const containers = fs.readdirSync(path.join(root, 'containers'));
	for (const id of containers) {
		const config = JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'config.v2.json'), 'utf8')) as {
			Name: string;
		};
		if (config.Name === `/${name}`)
			return path.join(
				'overlay2',
				fs.readFileSync(path.join(root, 'image', 'overlay2', 'layerdb', 'mounts', id, 'mount-id'), 'utf8').trim(),
				'diff',
			);
	}
	throw new Error(`no container ${name}`);
}

test('the native door is built and used (npm install builds it; a missing build fails here)', () => {
	const door = loadDoor();
	assert.type(door, 'object', `the native reader did not load: ${String(door)}`);
	const dir = tempDir('layerlens-door-built-');
	const root = extractSample(dir);
	const source = openDirSource(root);
	assert.is(source.unprotected, undefined);
	if (isRoot) assert.is(source.atimeLimit, undefined, 'as root: read through the private read-only noatime mount');
	assert.ok(source.list('image/overlay2').ok);
	if (typeof door !== 'string') {
		assert.ok(door.counters()[0] > 0, 'openat2 resolved the directory');
		// The native side checks paths itself too (openat2 alone would take a '..' that stays beneath).
		const opened = door.openRoot(Buffer.from(root), 1);
		assert.ok(Array.isArray(opened));
		const rootfd = (opened as number[])[0]!;
		const einval = os.constants.errno.EINVAL;
		for (const [bad, at] of [
			['image/../image', 1],
			['image//overlay2', 1],
			['./image', 0],
			['image/.', 1],
		] as const) {
			for (const mode of [0, 1])
				assert.equal(door.openDir(rootfd, Buffer.from(bad), mode), [einval, at], `${bad} (mode ${mode})`);
		}
		assert.is(door.openAt(rootfd, Buffer.from('image/overlay2')), einval, 'openAt takes one name');
		assert.is(door.statAt(rootfd, Buffer.from('..'), new Float64Array(10)), einval);
		door.close(rootfd);
	}
	const r = cli(['check', '--json', '--root', root]);
	assert.not.ok(r.stdout.includes('source.unprotected'), 'the CLI reads through the door too');
});

/** Every path under a Source with what each call says, for comparing two readers. */
function survey(source: Source): Map<string, string> {
	const out = new Map<string, string>();
	const walk = (rel: string): void => {
		const st = source.stat(rel);
		const s = st.ok ? st.value : st.error.code;
		let extra = '';
		if (st.ok && st.value.kind === 'file') {
			const r = source.readFile(rel, 1 << 26);
			extra = r.ok ? r.value.toString('base64') : r.error.code;
			const reader = source.openRead!(rel);
			assert.ok(reader.ok);
			if (reader.ok) {
				const b = Buffer.alloc(7);
				const n = reader.value.read(b, 3);
				extra += ` @3:${n.ok ? b.subarray(0, n.value).toString('hex') : n.error.code}`;
				reader.value.close();
			}
		}
		if (st.ok && st.value.kind === 'symlink') {
			const r = source.readLink(rel);
			extra = r.ok ? r.value : r.error.code;
		}
		out.set(rel, `${JSON.stringify(s)} ${extra}`);
		if (st.ok && st.value.kind === 'dir') {
			const l = source.list(rel);
			assert.ok(l.ok, rel);
			if (l.ok) for (const e of l.value) walk(rel === '' ? e.name : `${rel}/${e.name}`);
			// The one-call listing (listStats) gives the same entries, each with what stat gives.
			const fast = source.listStats?.(rel);
			if (fast !== undefined && l.ok) {
				assert.equal(
					fast.ok ? fast.value.map(e => [e.name, e.kind]) : fast.error.code,
					l.value.map(e => [e.name, e.kind]),
					rel,
				);
				if (fast.ok)
					for (const e of fast.value) {
						const child = rel === '' ? e.name : `${rel}/${e.name}`;
						assert.equal(e.stat, source.stat(child), child);
					}
			}
		}
	};
	walk('');
	return out;
}

test('many roots opened in one process (a Source has no close): its descriptors stay bounded, not one directory cache per root', () => {
	const dir = tempDir('layerlens-door-fds-');
	const root = extractSample(dir);
	const open = (): number => fs.readdirSync('/proc/self/fd').length;
	const before = open();
	const kept: Source[] = []; // kept alive, so that no finaliser closes anything
	for (let i = 0; i < 60; i++) {
		const s = openDirSource(root);
		kept.push(s);
		survey(s);
	}
	// Each root keeps its root descriptor (and its private mount); the directory caches share one
	// bound across the process (1024), where 60 caches of 256 would hold 15 000.
	const grown = open() - before;
	assert.ok(grown <= 1024 + 3 * kept.length, `${grown} descriptors more after ${kept.length} roots`);
});

test('every way of the door reads a real state exactly as node:fs does', () => {
	const dir = tempDir('layerlens-door-same-');
	const root = extractSample(dir);
	const expected = withDoorMode('node', () => survey(openDirSource(root)));
	assert.ok(expected.size > 300, `the sample has ${expected.size} paths`);
	for (const mode of modes) {
		const got = withDoorMode(mode, () => survey(openDirSource(root)));
		assert.equal([...got.entries()], [...expected.entries()], `LAYERLENS_DOOR=${mode}`);
	}
	const door = loadDoor();
	if (typeof door !== 'string') {
		const [byOpenat2, byWalk] = door.counters();
		assert.ok(byOpenat2 > 0 && byWalk > 0, `both ways were used: openat2 ${byOpenat2}, walk ${byWalk}`);
	}
});

test('hostile shapes: a symlink at any component, a file as a directory, .., FIFOs, devices, non-UTF-8 names, xattrs', () => {
	const dir = tempDir('layerlens-door-shapes-');
	const root = path.join(dir, 'root');
	const outside = path.join(dir, 'outside');
	fs.mkdirSync(path.join(outside, 'sub'), {recursive: true});
	fs.writeFileSync(path.join(outside, 'sub', 'f'), marker);
	fs.mkdirSync(path.join(root, 'a', 'b'), {recursive: true});
	fs.writeFileSync(path.join(root, 'a', 'b', 'f'), 'inside');
	fs.symlinkSync(outside, path.join(root, 'a', 'out'));
	fs.symlinkSync('b', path.join(root, 'a', 'rel'));
	fs.symlinkSync('/proc/self/root', path.join(root, 'magic'));
	fs.writeFileSync(path.join(root, 'file'), 'x'.repeat(100));
	execFileSync('mkfifo', [path.join(root, 'fifo')]);
	if (isRoot) execFileSync('mknod', [path.join(root, 'tty'), 'c', '5', '0']);
	const raw = Buffer.concat([Buffer.from(`${path.join(root, 'a')}/`), Buffer.from([0x66, 0xff, 0xfe, 0x2e])]);
	fs.mkdirSync(raw);
	fs.writeFileSync(Buffer.concat([raw, Buffer.from('/in')]), 'bytes');
	setXattr(path.join(root, 'a', 'b'), 'user.layerlens', 'yes');
	if (isRoot) setXattr(path.join(root, 'a'), 'trusted.overlay.opaque', 'y');
	for (const mode of modes) {
		withDoorMode(mode, () => {
			const s = openDirSource(root);
			const m = `LAYERLENS_DOOR=${mode}`;
			for (const [rel, at] of [
				['a/out/sub/f', 'a/out'],
				['a/out/sub', 'a/out'],
				['a/rel/f', 'a/rel'],
				['magic/etc/passwd', 'magic'],
			] as const) {
				const r = s.readFile(rel, 1000);
				assert.ok(!r.ok && r.error.code === 'symlink' && r.error.path === at, `${m} ${rel}: ${JSON.stringify(r)}`);
				const st = s.stat(rel);
				assert.ok(!st.ok && st.error.code === 'symlink' && st.error.path === at, `${m} stat ${rel}`);
				const l = s.list(rel);
				assert.ok(!l.ok && l.error.code === 'symlink', `${m} list ${rel}`);
				assert.is(s.xattrs!(rel), undefined);
			}
			const last = s.readFile('a/out', 1000);
			assert.ok(
				!last.ok && last.error.code === 'symlink',
				`${m} a symlink as the last component is not followed either`,
			);
			const l = s.list('a/out');
			assert.ok(!l.ok && l.error.code === 'symlink' && l.error.path === 'a/out', m);
			assert.is(
				s.stat('a/out').ok && s.stat('a/out').ok && (s.stat('a/out') as {value: {kind: string}}).value.kind,
				'symlink',
			);
			const link = s.readLink('a/out');
			assert.ok(link.ok && link.value === outside);
			const notLink = s.readLink('file');
			assert.ok(!notLink.ok && notLink.error.code === 'not-a-file');
			const asDir = s.readFile('file/x', 10);
			assert.ok(
				!asDir.ok && asDir.error.code === 'not-a-dir' && asDir.error.path === 'file',
				`${m} ${JSON.stringify(asDir)}`,
			);
			const listFile = s.list('file');
			assert.ok(
				!listFile.ok && listFile.error.code === 'not-a-dir' && listFile.error.message === 'is a file, not a directory',
				JSON.stringify(listFile),
			);
			const missing = s.readFile('a/nope/f', 10);
			assert.ok(
				!missing.ok && missing.error.code === 'missing' && missing.error.path === 'a/nope',
				JSON.stringify(missing),
			);
			for (const bad of ['../x', 'a/../../x', '/etc/passwd']) {
				const r = s.readFile(bad, 10);
				assert.ok(!r.ok && r.error.code === 'bad-path', bad);
			}
			const big = s.readFile('file', 99);
			assert.ok(!big.ok && big.error.code === 'too-large');
			const fifo = s.readFile('fifo', 10);
			assert.ok(
				!fifo.ok && fifo.error.code === 'not-a-file' && fifo.error.message === 'is a fifo, not a regular file',
				'a FIFO is refused without blocking',
			);
			if (isRoot) {
				const tty = s.readFile('tty', 10);
				assert.ok(
					!tty.ok && tty.error.code === 'not-a-file',
					'a device is refused (opened O_PATH only: its driver is never opened)',
				);
				const st = s.stat('tty');
				assert.ok(st.ok && st.value.kind === 'char' && st.value.rdev?.major === 5 && st.value.rdev.minor === 0);
			}
			const names = s.list('a');
			assert.ok(names.ok);
			const rawName = names.ok ? names.value.find(e => e.kind === 'dir' && e.name !== 'b') : undefined;
			assert.ok(
				rawName !== undefined && encodeName(rawName.name).equals(Buffer.from([0x66, 0xff, 0xfe, 0x2e])),
				'a name is kept as bytes',
			);
			const inRaw = s.readFile(`a/${rawName!.name}/in`, 10);
			assert.ok(inRaw.ok && inRaw.value.toString() === 'bytes', 'and is addressable');
			assert.equal(s.xattrs!('a/b')?.['user.layerlens'], Buffer.from('yes'));
			if (isRoot) assert.equal(s.xattrs!('a')?.['trusted.overlay.opaque'], Buffer.from('y'));
			assert.equal(s.xattrs!('file'), {});
			assert.is(s.xattrs!('nope'), undefined);
		});
	}
});

test('a file system mounted inside the root is read through it (as node:fs does), without changing an access time', () => {
	if (!isRoot) return console.log('  (skipped: mounting needs root)');
	const dir = tempDir('layerlens-door-submount-');
	const inner = path.join(dir, 'root', 'overlay2');
	fs.mkdirSync(inner, {recursive: true});
	execFileSync('mount', ['-t', 'tmpfs', '-o', 'strictatime,size=8m', 'tmpfs', inner]);
	cleanups.push(() => execFileSync('umount', ['-l', inner]));
	fs.mkdirSync(path.join(inner, 'layer'));
	fs.writeFileSync(path.join(inner, 'layer', 'f'), 'on the inner file system');
	fs.symlinkSync('f', path.join(inner, 'layer', 'l'));
	for (const mode of ['node', ...modes]) {
		withDoorMode(mode, () => {
			execFileSync('sh', ['-c', 'find "$1" -depth -print0 | xargs -0 touch -a -h -d @0', 'sh', inner]);
			const s = openDirSource(path.join(dir, 'root'));
			const l = s.list('overlay2/layer');
			assert.ok(l.ok && l.value.map(e => e.name).join() === 'f,l', `LAYERLENS_DOOR=${mode}`);
			const f = s.readFile('overlay2/layer/f', 100);
			assert.ok(f.ok && f.value.toString() === 'on the inner file system', `LAYERLENS_DOOR=${mode}`);
			assert.ok(s.readLink('overlay2/layer/l').ok);
			const changed = touched([
				Buffer.from(path.join(inner, 'layer')),
				Buffer.from(path.join(inner, 'layer', 'f')),
				Buffer.from(path.join(inner, 'layer', 'l')),
			]);
			if (mode === '' || mode === 'walk')
				assert.equal(
					changed,
					[],
					`LAYERLENS_DOOR=${mode}: the inner mount is read-only and noatime in the private clone too`,
				);
			else if (mode !== 'node')
				assert.equal(
					changed.map(c => c.split(' ')[0]),
					['symlink'],
					`LAYERLENS_DOOR=${mode}: O_NOATIME covers all but readlink`,
				);
		});
	}
});

test('without /proc: files are still opened safely (the name reopened and checked), and the missing xattrs are said', () => {
	if (!isRoot) return console.log('  (skipped: unmounting /proc in a private mount namespace needs root)');
	const dir = tempDir('layerlens-door-noproc-');
	const root = extractSample(dir);
	const bin = path.join(repo, 'bin', 'layerlens');
	const noProc = (args: string[]): {stdout: Buffer; stderr: string} => {
		const r = spawnSync(
			'unshare',
			[
				'-m',
				'--propagation',
				'private',
				'sh',
				'-c',
				'umount -l /proc && exec "$@"',
				'sh',
				process.execPath,
				bin,
				...args,
				'--root',
				root,
			],
			{maxBuffer: 1 << 26},
		);
		return {stdout: r.stdout, stderr: r.stderr.toString()};
	};
	const withProc = spawnSync(process.execPath, [bin, 'cat', 'paused_c', '/bin/busybox', '--root', root], {
		maxBuffer: 1 << 26,
	}).stdout;
	const cat = noProc(['cat', 'paused_c', '/bin/busybox']);
	assert.ok(cat.stdout.length > 1_000_000 && cat.stdout.equals(withProc), cat.stderr);
	const files = noProc(['files', 'paused_c']);
	assert.match(files.stderr, /\/proc is not mounted.*files\.xattrs-unreadable/);
	assert.not.match(noProc(['check']).stdout.toString(), /source\.unprotected/);
});

/** Node has no setxattr: python3 (which node-gyp needs too) has. */
function setXattr(file: string, name: string, value: string): void {
	execFileSync('python3', [
		'-c',
		'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)',
		file,
		name,
		value,
	]);
}

/** A child process that swaps `dir` for a symlink to `target` and back as fast as it can. */
function swapper(dir: string, target: string): ChildProcess {
	const script = `
		const fs = require('fs');
		const [dir, target] = process.argv.slice(1);
		const real = dir + '.real', link = dir + '.link';
		fs.symlinkSync(target, link);
		// Each state held for a few random microseconds (lstat calls), so that reads meet both.
		const hold = () => { for (let k = Math.floor(Math.random() * 4); k > 0; k--) fs.lstatSync(dir); };
		for (;;) {
			fs.renameSync(dir, real);
			fs.renameSync(link, dir);
			hold();
			fs.renameSync(dir, link);
			fs.renameSync(real, dir);
			hold();
		}`;
	return spawn(process.execPath, ['-e', script, dir, target], {stdio: 'ignore'});
}

/** A root whose container paused_c has /evil/secret.txt and /evil/sub/deep.txt, and outside it the same names holding the marker. */
function raceRoot(): {root: string; evil: string; outside: string} {
	const dir = tempDir('layerlens-door-race-');
	const root = extractSample(dir);
	const evil = path.join(root, rwLayer(root, 'paused_c'), 'evil');
	fs.mkdirSync(path.join(evil, 'sub'), {recursive: true});
	fs.writeFileSync(path.join(evil, 'secret.txt'), 'INSIDE\n');
	fs.writeFileSync(path.join(evil, 'sub', 'deep.txt'), 'INSIDE TOO\n');
	const outside = path.join(dir, 'outside-evil');
	fs.mkdirSync(path.join(outside, 'sub'), {recursive: true});
	for (const f of ['secret.txt', 'outside-only.txt', 'sub/deep.txt']) fs.writeFileSync(path.join(outside, f), marker);
	return {root, evil, outside};
}

/**
 * Reads through a fresh Source (no cached directory) at least `rounds` times, and on until `reads`
 * reads succeeded or 20 s passed (on a loaded machine the swapper can be off the CPU for a while);
 * the number of reads that returned the outside.
 */
function raceReads(root: string, evilRel: string, rounds: number, wanted = 200): {leaks: number; reads: number} {
	let leaks = 0;
	let reads = 0;
	const until = Date.now() + 20_000;
	for (let i = 0; i < rounds || (reads < wanted && Date.now() < until); i++) {
		const s = openDirSource(root);
		const f = s.readFile(`${evilRel}/secret.txt`, 1000);
		if (f.ok && (reads++, f.value.toString() !== 'INSIDE\n')) leaks++;
		const l = s.list(evilRel);
		if (l.ok && (reads++, l.value.some(e => e.name === 'outside-only.txt'))) leaks++;
		if (s.stat(`${evilRel}/outside-only.txt`).ok) leaks++;
		const deep = s.openRead!(`${evilRel}/sub/deep.txt`);
		if (deep.ok) {
			reads++;
			const b = Buffer.alloc(64);
			const n = deep.value.read(b, 0);
			if (n.ok && b.subarray(0, n.value).toString() !== 'INSIDE TOO\n') leaks++;
			deep.value.close();
		}
		const t = s.readFile(`${evilRel}/sub/deep.txt`, 1000);
		if (t.ok && (reads++, t.value.toString() !== 'INSIDE TOO\n')) leaks++;
	}
	return {leaks, reads};
}

test('a race: a directory swapped for a symlink in a tight loop while the door reads; never a byte from outside', async () => {
	const {root, evil, outside} = raceRoot();
	const evilRel = path.relative(root, evil);
	const child = swapper(evil, outside);
	cleanups.push(() => child.kill('SIGKILL'));
	try {
		await new Promise(r => setTimeout(r, 200));
		for (const mode of modes) {
			const {leaks, reads} = withDoorMode(mode, () => raceReads(root, evilRel, 400));
			assert.is(leaks, 0, `LAYERLENS_DOOR=${mode}: ${leaks} reads went outside the root`);
			assert.ok(reads > 0, `LAYERLENS_DOOR=${mode}: the reads are real (${reads} succeeded)`);
			console.log(`  (LAYERLENS_DOOR=${mode}: ${reads} reads succeeded, none outside)`);
		}
		// The same loop through node:fs (lstat-then-open): how often the old reader went outside.
		const old = withDoorMode('node', () => raceReads(root, evilRel, 400, 0));
		console.log(`  (node:fs reader under the same race: ${old.leaks} of ${old.reads} reads went outside the root)`);

		// The CLI, as a user runs it: cat, files and export of the container holding the swapped directory.
		const out = path.join(tempDir('layerlens-door-race-out-'), 'c.tar');
		let catOk = 0;
		for (let i = 0; i < 60; i++) {
			const r = cli(['cat', 'paused_c', '/evil/secret.txt', '--root', root]);
			assert.not.ok(r.stdout.includes(marker), `cat ${i}: read outside the root`);
			if (r.code === 0) {
				catOk++;
				assert.is(r.stdout, 'INSIDE\n');
			}
		}
		for (let i = 0; i < 25; i++) {
			const r = cli(['files', 'paused_c', '/evil', '--root', root]);
			assert.not.ok(r.stdout.includes('outside-only'), `files ${i}: listed outside the root`);
			const e = cli(['export', 'paused_c', '-o', out, '--root', root]);
			if (fs.existsSync(out)) {
				const tar = fs.readFileSync(out);
				assert.not.ok(
					tar.includes(marker) || tar.includes('outside-only'),
					`export ${i}: exported outside the root (exit ${e.code})`,
				);
				fs.rmSync(out);
			}
		}
		assert.ok(catOk > 0, 'some cats ran while the directory was there');
		await new Promise(r => setTimeout(r, 100)); // let the event loop see an exit, if there was one
		assert.ok(child.exitCode === null && child.signalCode === null, 'and the swapper ran all along');
	} finally {
		child.kill('SIGKILL');
	}
});

/** Mounts a file system for the atime test: tmpfs strictatime, or an ext4 image loop-mounted relatime. */
function mountFs(kind: 'tmpfs' | 'ext4'): string {
	const dir = tempDir(`layerlens-door-${kind}-`);
	const mnt = path.join(dir, 'mnt');
	fs.mkdirSync(mnt);
	if (kind === 'tmpfs') {
		execFileSync('mount', ['-t', 'tmpfs', '-o', 'strictatime,size=256m', 'tmpfs', mnt]);
	} else {
		const img = path.join(dir, 'fs.img');
		execFileSync('truncate', ['-s', '256M', img]);
		execFileSync('mkfs.ext4', ['-q', '-F', img]);
		// -o loop: the loop device is released with the unmount (autoclear)
		execFileSync('mount', ['-o', 'loop,relatime', img, mnt]);
	}
	cleanups.push(() => execFileSync('umount', ['-l', mnt]));
	return mnt;
}

/** Every path under root as bytes (listed once, before the atimes are aged: listing changes them). */
function allPaths(root: string): Buffer[] {
	const out = execFileSync('find', [root, '-print0'], {maxBuffer: 1 << 28});
	const paths: Buffer[] = [];
	for (let i = 0; i < out.length; ) {
		const end = out.indexOf(0, i);
		paths.push(out.subarray(i, end));
		i = end + 1;
	}
	return paths;
}

/** Sets every path's access time to 0 (1970), directories and symlinks included; contents first, so listing a directory cannot undo its own. */
function ageAll(root: string): void {
	execFileSync('sh', ['-c', 'find "$1" -depth -print0 | xargs -0 touch -a -h -d @0', 'sh', root]);
}

/** The paths whose access time is no longer 0 (lstat only: nothing read), with their kind. */
function touched(paths: Buffer[]): string[] {
	const out: string[] = [];
	for (const p of paths) {
		const st = fs.lstatSync(p, {bigint: true});
		if (st.atimeNs !== 0n)
			out.push(`${st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file'} ${p.toString()}`);
	}
	return out;
}

function atimeCommands(root: string, out: string): string[][] {
	return [
		['model'],
		['ls'],
		['images'],
		['tree'],
		['inspect', 'paused_c'],
		['check'],
		['check', '--deep'],
		['files', 'paused_c'],
		['files', 'app_stopped', '--json'],
		['diff', 'paused_c'],
		['cat', 'paused_c', '/bin/busybox'],
		['cat', 'app_stopped', '/etc/hostname'],
		['export', 'paused_c', '-o', out, '--hash'],
		['timeline', '--files'],
		['compare', root, root],
	].map(a => [...a, '--root', root]);
}

for (const kind of ['tmpfs', 'ext4'] as const) {
	test(`atimes aged to 1970 on ${kind === 'tmpfs' ? 'tmpfs strictatime' : 'ext4 relatime (loop-mounted)'}: not one changes, directories included`, () => {
		if (!isRoot) return console.log('  (skipped: mounting needs root)');
		const mnt = mountFs(kind);
		try {
			const root = extractSample(mnt);
			const paths = allPaths(root);
			const out = path.join(tempDir('layerlens-door-atime-out-'), 'c.tar');
			const run = (mode: string): string[] => {
				ageAll(root);
				assert.equal(touched(paths), [], 'aged');
				for (const argv of atimeCommands(root, out)) {
					const args = argv[0] === 'compare' ? argv.slice(0, 3) : argv;
					const r = cli(args, {LAYERLENS_DOOR: mode});
					assert.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
				}
				return touched(paths);
			};
			// The door as it runs for root: a private read-only noatime mount; nothing changes.
			assert.equal(run(''), [], 'the door changed access times');
			// O_NOATIME alone (openat2 and the walk): only readlink, which the kernel does not let
			// O_NOATIME cover (do_readlinkat calls touch_atime), updates symlinks' access times.
			const changed = run('unsealed');
			assert.equal(
				changed.filter(c => !c.startsWith('symlink ')),
				[],
				'LAYERLENS_DOOR=unsealed: only symlinks change',
			);
			assert.ok(
				changed.length > 0,
				`LAYERLENS_DOOR=unsealed: readlink does update a symlink's atime on ${kind} (the README says so)`,
			);
			// The node:fs fallback: directories' access times change (the check above can fail).
			const old = run('node');
			assert.ok(
				old.some(c => c.startsWith('dir ')),
				'the node:fs reader changes directory atimes',
			);
		} finally {
			cleanupAll();
		}
	});
}

test('the node:fs fallback reports what it cannot promise (source.unprotected, source.atimes)', () => {
	const dir = tempDir('layerlens-door-fallback-');
	const root = extractSample(dir);
	const s = withDoorMode('node', () => openDirSource(root));
	assert.ok(s.unprotected?.includes('symlink'));
	assert.ok(s.list('containers').ok, 'and still reads');
	const r = cli(['check', '--json', '--root', root], {LAYERLENS_DOOR: 'node'});
	const findings = (
		JSON.parse(r.stdout) as {findings: Array<{code: string; severity: string; subject: string; message: string}>}
	).findings;
	const unprotected = findings.find(f => f.code === 'source.unprotected');
	assert.ok(
		unprotected !== undefined && unprotected.severity === 'warning' && unprotected.subject === 'root',
		r.stdout.slice(0, 400),
	);
	assert.ok(unprotected.message.includes('followed out of the root') && unprotected.message.includes('O_NOATIME'));
	assert.ok(findings.some(f => f.code === 'source.atimes' && f.severity === 'warning'));
	const model = cli(['model', '--root', root], {LAYERLENS_DOOR: 'node'});
	assert.ok(model.stdout.includes('source.unprotected'), 'model shows it too');
	// Without the private mount (not root, or an old kernel), readlink's atime updates are told.
	const unsealed = cli(['check', '--json', '--root', root], {LAYERLENS_DOOR: 'unsealed'});
	const atimes = (JSON.parse(unsealed.stdout) as {findings: Array<{code: string; message: string}>}).findings.find(
		f => f.code === 'source.atimes',
	);
	assert.ok(atimes?.message.includes('readlinkat'), unsealed.stdout.slice(0, 400));
	assert.not.ok(unsealed.stdout.includes('source.unprotected'));
	// As another user: no private mount, and O_NOATIME only on what that user owns.
	if (isRoot) {
		execFileSync('chmod', ['-R', 'a+rX', dir]);
		const r = execFileSync(
			'setpriv',
			[
				'--reuid=65534',
				'--regid=65534',
				'--clear-groups',
				process.execPath,
				path.join(repo, 'bin', 'layerlens'),
				'check',
				'--json',
				'--root',
				root,
			],
			{encoding: 'utf8'},
		);
		const f = (JSON.parse(r) as {findings: Array<{code: string; message: string}>}).findings;
		const limit = f.find(x => x.code === 'source.atimes');
		assert.ok(
			limit?.message.includes('readlinkat') && limit.message.includes('uid 65534 does not own'),
			r.slice(0, 400),
		);
		assert.not.ok(f.some(x => x.code === 'source.unprotected'));
	}
});

test.run();
