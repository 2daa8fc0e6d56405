// Every whiteout form, per driver, on layers built in code (as root: character devices and
// trusted.* xattrs need it), read from the directory and from a tar of it; the real aufs tree.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {aufsChanges, layerItems, naiveChanges} from '../../src/files/changes.ts';
import {exportTar} from '../../src/files/export.ts';
import {walkMerged} from '../../src/files/merged-walk.ts';
import {type FsView, type WhiteoutStyle, rootLayers} from '../../src/files/view.ts';
import type {Finding} from '../../src/finding.ts';
import {openDirSource} from '../../src/sources/dir-source.ts';
import type {Source} from '../../src/sources/source.ts';
import {openTarSource} from '../../src/sources/tar-source.ts';
import {describe, readTar} from '../helpers/files-compare.ts';
import {ll} from '../helpers/files-run.ts';
import {realRoot} from '../helpers/real-fixtures.ts';

const root = typeof process.getuid === 'function' && process.getuid() === 0;
const T = new Date('2020-01-02T03:04:05Z');

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

type Spec = Record<
	string,
	string | {dir: true} | {link: string} | {char: [number, number]} | {fifo: true} | {opaque: 'trusted' | 'user'}
>;

function build(dir: string, spec: Spec): void {
	fs.mkdirSync(dir, {recursive: true});
	for (const [rel, what] of Object.entries(spec)) {
		const p = path.join(dir, rel);
		fs.mkdirSync(path.dirname(p), {recursive: true});
		if (typeof what === 'string') fs.writeFileSync(p, what);
		else if ('dir' in what) fs.mkdirSync(p, {recursive: true});
		else if ('link' in what) fs.symlinkSync(what.link, p);
		else if ('char' in what) execFileSync('mknod', [p, 'c', String(what.char[0]), String(what.char[1])]);
		else if ('fifo' in what) execFileSync('mkfifo', [p]);
		else setXattr(p, `${what.opaque}.overlay.opaque`, 'y');
	}
	// Same times everywhere: directory comparisons then depend on content only.
	const touch = (p: string): void => {
		const st = fs.lstatSync(p);
		if (st.isDirectory()) for (const n of fs.readdirSync(p)) touch(path.join(p, n));
		if (!st.isSymbolicLink()) fs.utimesSync(p, T, T);
	};
	touch(dir);
}

const lower: Spec = {'a/x': 'x\n', 'a/y': 'y\n', 'b/z': 'z\n', c: 'c\n', 'd/q': 'q\n', e: 'e\n'};
const common: Spec = {'b/new': 'n\n', 'c/in': 'i\n', d: 'now a file\n', f: 'f\n', cdev: {char: [1, 3]}};

/** The same change (delete a/x and e, recreate b, c becomes a directory, d a file, add f and a device) in each driver's encoding. */
const upper: Record<string, Spec> = {
	overlay: {...common, 'a/x': {char: [0, 0]}, e: {char: [0, 0]}, b: {opaque: 'trusted'}},
	'overlay-user': {...common, 'a/x': {char: [0, 0]}, e: {char: [0, 0]}, b: {opaque: 'user'}},
	aufs: {
		...common,
		'a/.wh.x': '',
		'.wh.e': '',
		'b/.wh..wh..opq': '',
		'.wh..wh.aufs': '',
		'.wh..wh.plnk/': {dir: true},
		'.wh..wh.orph/': {dir: true},
	},
	fuse: {...common, 'a/.wh.x': '', e: {char: [0, 0]}, 'b/.wh..wh..opq': '', 'b/.wh..opq': {char: [0, 0]}},
};
const styleOf: Record<string, WhiteoutStyle> = {
	overlay: 'overlay',
	'overlay-user': 'overlay',
	aufs: 'aufs',
	fuse: 'both',
};

const merged = ['a/', 'a/y', 'b/', 'b/new', 'c/', 'c/in', 'cdev', 'd', 'f'];
const naive = ['C /a', 'D /a/x', 'C /b', 'A /b/new', 'D /b/z', 'C /c', 'A /c/in', 'A /cdev', 'C /d', 'D /e', 'A /f'];
const items = [
	'modified /a',
	'deleted /a/x',
	'opaque /b',
	'added /b/new',
	'modified /c',
	'added /c/in',
	'added /cdev',
	'modified /d',
	'deleted /e',
	'added /f',
];

function view(style: WhiteoutStyle, dirs: string[]): FsView {
	return {
		driver: 'test',
		style,
		layers: dirs.map((dir, i) => ({dir, role: i === 0 ? 'rw' : 'image', cacheId: `layer${i}`, chainId: null})),
		subject: 'container:test',
	};
}

function names(source: Source, v: FsView, problems: Finding[]): string[] {
	return [...walkMerged(source, v, '', rootLayers(v), f => problems.push(f))].map(w =>
		w.entry.kind === 'dir' ? `${w.rel}/` : w.rel,
	);
}

function layersDir(kind: string): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-wh-${kind}-`));
	build(path.join(dir, 'l1'), lower);
	build(path.join(dir, 'l2'), upper[kind]!);
	return dir;
}

async function sources(dir: string): Promise<Array<[string, Source]>> {
	const tar = `${dir}.tar`;
	execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', dir, '-cf', tar, '.']);
	const t = await openTarSource(tar);
	if (!t.ok) throw new Error(t.error.message);
	return [
		['dir', openDirSource(dir)],
		['tar', t.value],
	];
}

if (!root) {
	test('whiteout forms (needs root: character devices, trusted.* xattrs)', () => {
		if (process.env.CI) assert.unreachable('CI runs as root');
		console.log('  skip: not root');
	});
} else {
	for (const kind of Object.keys(upper)) {
		test(`whiteouts: ${kind}: merged view, docker diff, layer status, export (directory and tar)`, async () => {
			const dir = layersDir(kind);
			try {
				for (const [what, source] of await sources(dir)) {
					const who = `${kind} ${what}`;
					const problems: Finding[] = [];
					const v = view(styleOf[kind]!, ['l2', 'l1']);
					assert.equal(names(source, v, problems), merged, `${who}: merged view`);
					const diff =
						kind === 'aufs'
							? [...aufsChanges(source, 'l2', ['l1'], 'x', f => problems.push(f))]
							: [
									...naiveChanges(source, v, view(styleOf[kind]!, ['l1']), {
										prune: true,
										onProblem: f => problems.push(f),
									}),
								];
					const lines = diff.map(c => `${c.kind} /${c.rel}`);
					if (kind === 'aufs') {
						// docker's aufs diff (archive.Changes): top-level housekeeping skipped, the nested opaque marker read as D of ".wh..opq"
						assert.equal(
							lines,
							[
								'D /e',
								'C /a',
								'D /a/x',
								'C /b',
								'D /b/.wh..opq',
								'A /b/new',
								'C /c',
								'A /c/in',
								'A /cdev',
								'C /d',
								'A /f',
							],
							`${who}: diff`,
						);
					} else assert.equal(lines, naive, `${who}: diff`);
					const li = [
						...layerItems(source, view(styleOf[kind]!, ['l2']), view(styleOf[kind]!, ['l1']), f => problems.push(f)),
					].map(i => `${i.status} /${i.rel}`);
					assert.equal(li.sort(), [...items].sort(), `${who}: layer status`);
					const chunks: Buffer[] = [];
					await exportTar(source, v, {put: b => void chunks.push(b)}, {onProblem: f => problems.push(f)});
					const tar = readTar(Buffer.concat(chunks));
					assert.equal([...tar.keys()].sort(), merged.map(m => m.replace(/\/$/, '')).sort(), `${who}: export`);
					assert.is(tar.get('cdev')?.dev, '1,3', `${who}: device kept`);
					assert.equal(problems, [], `${who}: no problems`);
				}
			} finally {
				fs.rmSync(dir, {recursive: true, force: true});
				fs.rmSync(`${dir}.tar`, {force: true});
			}
		});
	}

	test('whiteouts: vfs (flattened): a layer is its parent compared with itself', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-wh-vfs-'));
		try {
			build(path.join(dir, 'l1'), lower);
			// the full copy after the change: no whiteouts; a `.wh.` name or a 0/0 device is just a file here
			build(path.join(dir, 'l2'), {
				'a/y': 'y\n',
				'b/new': 'n\n',
				'c/in': 'i\n',
				d: 'now a file\n',
				f: 'f\n',
				cdev: {char: [1, 3]},
				'.wh.g': '',
				zero: {char: [0, 0]},
			});
			const source = openDirSource(dir);
			const problems: Finding[] = [];
			const top = view('none', ['l2']);
			assert.equal(names(source, top, problems), [
				'.wh.g',
				'a/',
				'a/y',
				'b/',
				'b/new',
				'c/',
				'c/in',
				'cdev',
				'd',
				'f',
				'zero',
			]);
			const lines = [
				...naiveChanges(source, top, view('none', ['l1']), {prune: false, onProblem: f => problems.push(f)}),
			].map(c => `${c.kind} /${c.rel}`);
			assert.equal(lines, [
				'A /.wh.g',
				'C /a',
				'D /a/x',
				'C /b',
				'A /b/new',
				'D /b/z',
				'C /c',
				'A /c/in',
				'A /cdev',
				'C /d',
				'D /e',
				'A /f',
				'A /zero',
			]);
			assert.equal(problems, []);
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	});

	test('hostile layers: symlinks out and in loops, devices, FIFOs, control characters, a path over 4096 characters', async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-wh-hostile-'));
		try {
			build(path.join(dir, 'l1'), {'etc/passwd': 'inside\n', 'a/keep': 'k\n', 'bin/sh': 'sh\n'});
			fs.mkdirSync(path.join(dir, 'l2', 'deep'), {recursive: true});
			build(path.join(dir, 'l2'), {
				esc: {link: '/../../../../etc/passwd'},
				up: {link: '../../../../..'},
				loop1: {link: 'loop2'},
				loop2: {link: 'loop1'},
				a: {link: '/'}, // a symlink over a lower directory hides it; it is never listed through
				fifo: {fifo: true},
				mem: {char: [1, 1]},
				'e\x1b[2Jx': 'escape\n',
				'nl\nname': 'newline\n',
			});
			// a path of 45 x 101 characters, made with relative steps (a single path that long cannot be opened)
			const long = 'L'.repeat(100);
			execFileSync(process.execPath, [
				'-e',
				`const fs = require('fs'); process.chdir(process.argv[1]); for (let i = 0; i < 45; i++) { fs.mkdirSync('${long}'); process.chdir('${long}'); } fs.writeFileSync('f', 'deep');`,
				path.join(dir, 'l2', 'deep'),
			]);
			const source = openDirSource(dir);
			const v = view('overlay', ['l2', 'l1']);
			const problems: Finding[] = [];
			const listed = names(source, v, problems);
			assert.ok(listed.includes('a'), 'a is the symlink');
			assert.not.ok(
				listed.some(n => n.startsWith('a/')),
				'nothing is listed through the symlink',
			);
			assert.ok(listed.includes('e\x1b[2Jx') && listed.includes('nl\nname'), 'names kept exactly');
			// The door resolves a path one directory at a time beyond PATH_MAX: the deepest file is there.
			assert.ok(
				listed.some(n => n.length > 4500 && n.endsWith('/f')),
				'the walk goes to the bottom, past PATH_MAX',
			);
			assert.not.ok(
				problems.some(p => p.code === 'files.unreadable'),
				'nothing unreadable on the way',
			);
			const chunks: Buffer[] = [];
			const exportProblems: Finding[] = [];
			await exportTar(source, v, {put: b => void chunks.push(b)}, {onProblem: f => exportProblems.push(f)});
			const tar = readTar(Buffer.concat(chunks));
			assert.is(tar.get('esc')?.type, 'symlink');
			assert.is(tar.get('esc')?.link, '/../../../../etc/passwd', 'symlinks stored as symlinks');
			assert.is(tar.get('fifo')?.type, 'fifo', 'a FIFO is stored, never opened');
			assert.is(tar.get('mem')?.dev, '1,1');
			assert.ok(
				[...tar.keys()].some(k => k.length > 4000),
				'long names are written (PAX)',
			);
			// GNU tar reads it too
			const tarFile = path.join(dir, 'out.tar');
			fs.writeFileSync(tarFile, Buffer.concat(chunks));
			const gnu = execFileSync('tar', ['-tvf', tarFile], {maxBuffer: 64 << 20}).toString();
			assert.match(gnu, /esc -> \/\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd/);
		} finally {
			execFileSync('rm', ['-rf', '--one-file-system', dir]);
		}
	});
}

test('real aufs tree: merged views, whiteout housekeeping hidden, diff and export of every container', async () => {
	const r = realRoot('aufs');
	if (r === null) return console.log('  skip: ../shared/fixtures/real/ is absent');
	const ls = JSON.parse((await ll(['ls', '--json', '--root', r])).stdout) as Array<{name: string}>;
	assert.ok(ls.length > 0);
	for (const c of ls) {
		const f = await ll(['files', c.name, '--json', '--root', r]);
		assert.is(f.code, 0, f.stderr);
		const entries = (JSON.parse(f.stdout) as {entries: Array<{path: string}>}).entries.map(e => e.path);
		assert.ok(entries.includes('/bin/busybox') || entries.includes('/bin/sh'), `${c.name}: busybox is there`);
		assert.not.ok(
			entries.some(e => e.includes('/.wh.')),
			`${c.name}: no whiteout or housekeeping entry`,
		);
		assert.ok(entries.includes('/.dockerenv'), `${c.name}: the init layer's files`);
		const d = await ll(['diff', c.name, '--json', '--root', r]);
		assert.is(d.code, 0, d.stderr);
		assert.equal(
			(JSON.parse(d.stdout) as {changes: unknown[]}).changes,
			[],
			`${c.name}: its RW layer holds only aufs housekeeping`,
		);
		const out = path.join(os.tmpdir(), `layerlens-aufs-${process.pid}.tar`);
		const e = await ll(['export', c.name, '-o', out, '--root', r]);
		assert.is(e.code, 0, e.stderr);
		assert.equal(describe(readTar(out)).length, entries.length, `${c.name}: export has what files lists`);
		fs.rmSync(out, {force: true});
	}
	// an init layer, by its cache id: what it adds to the image
	const init = fs.readdirSync(path.join(r, 'aufs', 'diff')).find(n => n.endsWith('-init'))!;
	const li = await ll(['files', init, '--root', r]);
	assert.match(li.stdout, /^added +-rwx.* \/\.dockerenv$/m);
	assert.match(li.stdout, /^added +lrwx.* \/etc\/mtab -> \/proc\/mounts$/m);
	assert.not.match(li.stdout, /\.wh\./);
});

test('export refuses to write into the root it reads, and --hash needs a file', async () => {
	const r = realRoot('overlay2');
	if (r === null) return console.log('  skip: ../shared/fixtures/real/ is absent');
	const c = (JSON.parse((await ll(['ls', '--json', '--root', r])).stdout) as Array<{name: string}>)[0]!.name;
	const inside = path.join(r, 'evil.tar');
	const e = await ll(['export', c, '-o', inside, '--root', r]);
	assert.is(e.code, 2);
	assert.match(e.stderr, /inside the Docker root/);
	assert.not.ok(fs.existsSync(inside), 'nothing written');
	const h = await ll(['export', c, '-o', '-', '--hash', '--root', r]);
	assert.is(h.code, 2);
	const link = path.join(os.tmpdir(), `layerlens-link-${process.pid}.tar`);
	fs.symlinkSync(path.join(r, 'evil2.tar'), link);
	try {
		const s = await ll(['export', c, '-o', link, '--root', r]);
		assert.is(s.code, 2, 'a symlink (here into the root) is refused');
		assert.not.ok(fs.existsSync(path.join(r, 'evil2.tar')));
	} finally {
		fs.rmSync(link, {force: true});
	}
	const bad = await ll(['diff', 'nope', '--root', r]);
	assert.is(bad.code, 2);
	const usage = await ll(['cat', c, '--root', r]);
	assert.is(usage.code, 2);
	assert.match(usage.stderr, /cat takes a REF and a PATH/);
});

test('text output escapes control characters; --json keeps them', async () => {
	const {fileLine, fileRow} = await import('../../src/view/files-text.ts');
	const row = fileRow('/e\x1b[2Jx', {kind: 'file', size: 1, mode: 0o100644, uid: 0, gid: 0, mtimeMs: 0}, 'l', {});
	assert.not.match(fileLine(row, false), /\x1b/);
	assert.match(fileLine(row, false), /\/e\\x1b\[2Jx$/m);
	assert.is(JSON.parse(JSON.stringify(row)).path, '/e\x1b[2Jx');
});

test.run();
