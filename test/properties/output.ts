import {execFileSync, spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {C8D, basicC8dRoot} from '../helpers/c8d-root.ts';
import {fingerprint} from '../helpers/fingerprint.ts';
import {cli, repo} from '../helpers/run-cli.ts';

// An output can never alias the evidence (src/files/output.ts), and a write error is one line
// with exit 4 and no partial file. Every case runs on a copy of a real overlay2 state
// (sample/docker.tar.gz, made by dockerd) and checks that the evidence is fingerprint-identical.

const isRoot = process.getuid?.() === 0;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-output-'));
const mounts: string[] = [];
process.on('exit', () => {
	for (const m of mounts.reverse()) spawnQuiet('umount', [m]);
	fs.rmSync(base, {recursive: true, force: true});
});

function spawnQuiet(cmd: string, args: string[]): void {
	try {
		execFileSync(cmd, args, {stdio: 'ignore'});
	} catch {
		// best effort
	}
}

const state = path.join(base, 'state');
fs.mkdirSync(state);
execFileSync('tar', [
	'--xattrs',
	'--xattrs-include=*',
	'--numeric-owner',
	'-xpzf',
	path.join(repo, 'sample', 'docker.tar.gz'),
	'-C',
	state,
]);
const root = path.join(state, 'docker');
const archive = path.join(base, 'arch', 'docker.tar.gz');
fs.mkdirSync(path.dirname(archive));
fs.copyFileSync(path.join(repo, 'sample', 'docker.tar.gz'), archive);
const container = fs.readdirSync(path.join(root, 'containers')).sort()[0]!;
const out = path.join(base, 'out');
fs.mkdirSync(out);

/** The evidence: the directory root, and the archive's bytes, inode, link count and times. */
function evidence(): unknown {
	const st = fs.statSync(archive);
	return {
		dir: [...fingerprint(root).entries()],
		archive: [fingerprint(path.dirname(archive)).get('docker.tar.gz'), st.ino, st.nlink, st.ctimeMs],
	};
}

function refused(args: string[], pattern: RegExp, cwd?: string): void {
	const before = evidence();
	const r = cwd === undefined ? cli(args) : cliIn(cwd, args);
	assert.is(r.code, 2, `${args.join(' ')}: ${r.code} ${r.stderr}`);
	assert.is(r.stdout, '');
	const lines = r.stderr.split('\n').filter(l => l !== '');
	assert.is(lines.length, 1, r.stderr);
	assert.match(r.stderr, pattern);
	assert.not.match(r.stderr, /internal error|\n\s+at /);
	assert.equal(evidence(), before, `${args.join(' ')}: the evidence changed`);
	assert.equal(leftovers(), [], 'no temporary file is left');
}

function cliIn(cwd: string, args: string[]): {code: number; stdout: string; stderr: string} {
	try {
		const stdout = execFileSync(process.execPath, [path.join(repo, 'bin', 'layerlens'), ...args], {
			cwd,
			encoding: 'utf8',
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		return {code: 0, stdout, stderr: ''};
	} catch (error) {
		const e = error as {status: number; stdout: string; stderr: string};
		return {code: e.status, stdout: e.stdout, stderr: e.stderr};
	}
}

/** Temporary files (`.NAME.layerlens-*.tmp`) anywhere under base. */
function leftovers(): string[] {
	const found: string[] = [];
	const walk = (d: string): void => {
		for (const e of fs.readdirSync(d, {withFileTypes: true})) {
			const p = path.join(d, e.name);
			if (/\.layerlens-\d+-[0-9a-f]+\.tmp$/.test(e.name)) found.push(p);
			if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
		}
	};
	walk(base);
	return found;
}

function bind(from: string, to: string): void {
	if (fs.statSync(from).isDirectory()) fs.mkdirSync(to, {recursive: true});
	else fs.writeFileSync(to, '');
	execFileSync('mount', ['--bind', from, to]);
	mounts.push(to);
}

function unbind(to: string): void {
	execFileSync('umount', [to]);
	mounts.splice(mounts.indexOf(to), 1);
}

const exp = (o: string, ...more: string[]): string[] => ['export', container, '-o', o, '--root', root, ...more];
const expArchive = (o: string, ...more: string[]): string[] => [
	'export',
	container,
	'-o',
	o,
	'--root',
	archive,
	...more,
];

test('an output naming the evidence is refused (exit 2, one line) before anything is created, and the evidence is unchanged', () => {
	const config = path.join(root, 'containers', container, 'config.v2.json');
	// 1. a hard link to a config.v2.json (renaming over it would change the inode's link count and ctime)
	const hard = path.join(out, 'hard.tar');
	fs.linkSync(config, hard);
	refused(exp(hard), /has 1 other hard link/);
	fs.rmSync(hard);
	// 2. the root directory itself
	refused(exp(root), /is the Docker root being read/);
	// 3. a new file inside it
	refused(exp(path.join(root, 'x.tar')), /is inside the Docker root being read/);
	assert.not.ok(fs.existsSync(path.join(root, 'x.tar')));
	// 4. an existing file of it
	refused(exp(config), /is inside the Docker root being read/);
	// 5. a `..` path that comes back into it
	refused(exp(path.join(out, '..', 'state', 'docker', 'containers', 'y.tar')), /is inside the Docker root being read/);
	// 6. a relative path from inside the root
	refused(
		['export', container, '-o', 'z.tar', '--root', root],
		/is inside the Docker root being read/,
		path.join(root, 'containers'),
	);
	// 7. a symlinked parent directory
	const link = path.join(out, 'link');
	fs.symlinkSync(path.join(root, 'containers'), link);
	refused(exp(path.join(link, 'l.tar')), /is a symlink/);
	// 8. a symlink followed by `..` (folded lexically it would look harmless)
	refused(exp(`${link}/../harmless.tar`), /is a symlink/);
	fs.rmSync(link);
	// 9. the sha256 manifest inside the root while OUT itself is outside: OUT is not created either
	const outside = path.join(out, 'fine.tar');
	fs.symlinkSync(path.join(root, 'containers'), path.join(out, 'fine.tar.sha256'));
	refused(exp(outside, '--hash'), /fine\.tar\.sha256: is a symlink/);
	assert.not.ok(fs.existsSync(outside), 'OUT is not created when OUT.sha256 is refused');
	fs.rmSync(path.join(out, 'fine.tar.sha256'));
	// 10. an existing OUT.sha256 hard-linked to the evidence: OUT is neither created nor truncated
	fs.writeFileSync(outside, 'keep');
	fs.linkSync(config, path.join(out, 'fine.tar.sha256'));
	refused(exp(outside, '--hash'), /fine\.tar\.sha256: has 1 other hard link/);
	assert.is(fs.readFileSync(outside, 'utf8'), 'keep');
	fs.rmSync(path.join(out, 'fine.tar.sha256'));
	fs.rmSync(outside);
	// 11. the archive root itself, 12. through a hard link, 13. through a symlink, 14. by a relative path
	refused(expArchive(archive), /is the archive being read/);
	fs.linkSync(archive, path.join(out, 'a.tar'));
	refused(expArchive(path.join(out, 'a.tar')), /is the archive being read|other hard link/);
	fs.rmSync(path.join(out, 'a.tar'));
	fs.symlinkSync(archive, path.join(out, 's.tar'));
	refused(expArchive(path.join(out, 's.tar')), /is a symlink/);
	fs.rmSync(path.join(out, 's.tar'));
	refused(
		['export', container, '-o', 'docker.tar.gz', '--root', archive],
		/is the archive being read/,
		path.dirname(archive),
	);
	// 15. an existing directory, 16. a device (a rename would replace /dev/null)
	refused(exp(out), /is a directory/);
	refused(exp('/dev/null'), /not a regular file/);
});

test('bind mounts of the root, of its parent, of containers/ and of the archive are refused', () => {
	if (!isRoot) return console.log('  (skipped: bind mounts need root)');
	try {
		bind(root, path.join(out, 'b-root'));
		refused(exp(path.join(out, 'b-root', 'x.tar')), /is inside .*b-root, which is the Docker root being read/);
		refused(exp(path.join(out, 'b-root', 'containers', container, 'config.v2.json')), /Docker root being read/);
		unbind(path.join(out, 'b-root'));
		bind(state, path.join(out, 'b-parent'));
		refused(exp(path.join(out, 'b-parent', 'docker', 'x.tar')), /Docker root being read/);
		// beside the root, through the same mount, is not the evidence
		const beside = cli(exp(path.join(out, 'b-parent', 'beside.tar')));
		assert.is(beside.code, 0, beside.stderr);
		fs.rmSync(path.join(state, 'beside.tar'));
		unbind(path.join(out, 'b-parent'));
		bind(path.join(root, 'containers'), path.join(out, 'b-containers'));
		refused(exp(path.join(out, 'b-containers', 'x.tar')), /Docker root being read/);
		refused(exp(path.join(out, 'b-containers', container, 'config.v2.json')), /Docker root being read/);
		unbind(path.join(out, 'b-containers'));
		bind(archive, path.join(out, 'b-archive.tar'));
		refused(expArchive(path.join(out, 'b-archive.tar')), /archive being read/);
		unbind(path.join(out, 'b-archive.tar'));
		bind(path.dirname(archive), path.join(out, 'b-archdir'));
		refused(expArchive(path.join(out, 'b-archdir', 'docker.tar.gz')), /archive being read/);
		unbind(path.join(out, 'b-archdir'));
	} finally {
		for (const m of [...mounts].reverse()) unbind(m);
	}
});

test('--containerd-root: the second root is evidence too (inside, through a bind mount, a hard link to its files, a symlink)', () => {
	const b = basicC8dRoot();
	b.r.save();
	const dockerRoot = b.r.dir;
	const c8d = path.join(base, 'c8d-root');
	fs.renameSync(path.join(dockerRoot, C8D), c8d);
	fs.rmdirSync(path.join(dockerRoot, 'containerd'));
	try {
		const both = (o: string): string[] => ['export', 'web', '-o', o, '--root', dockerRoot, '--containerd-root', c8d];
		const fp = (): unknown => [[...fingerprint(dockerRoot).entries()], [...fingerprint(c8d).entries()]];
		const refuse = (o: string, pattern: RegExp): void => {
			const before = fp();
			const r = cli(both(o));
			assert.is(r.code, 2, `${o}: ${r.stderr}`);
			assert.match(r.stderr, pattern);
			assert.equal(fp(), before);
		};
		refuse(path.join(c8d, 'x.tar'), /is inside the containerd root being read/);
		refuse(path.join(dockerRoot, 'x.tar'), /is inside the Docker root being read/);
		const meta = path.join(c8d, 'io.containerd.metadata.v1.bolt', 'meta.db');
		fs.linkSync(meta, path.join(out, 'meta.tar'));
		refuse(path.join(out, 'meta.tar'), /other hard link/);
		fs.rmSync(path.join(out, 'meta.tar'));
		fs.symlinkSync(c8d, path.join(out, 'c8d-link'));
		refuse(path.join(out, 'c8d-link', 'x.tar'), /is a symlink/);
		fs.rmSync(path.join(out, 'c8d-link'));
		if (isRoot) {
			bind(c8d, path.join(out, 'b-c8d'));
			try {
				refuse(path.join(out, 'b-c8d', 'io.containerd.content.v1.content', 'x.tar'), /containerd root being read/);
			} finally {
				unbind(path.join(out, 'b-c8d'));
			}
		}
		const good = cli(both(path.join(out, 'c8d-good.tar')));
		assert.is(good.code, 0, good.stderr);
	} finally {
		b.r.remove();
	}
});

test('a good output is written whole, replaces an existing file, and leaves no temporary file', () => {
	const o = path.join(out, 'good.tar');
	fs.writeFileSync(o, 'old');
	const before = evidence();
	const r = cli(exp(o, '--hash'));
	assert.is(r.code, 0, r.stderr);
	assert.equal(evidence(), before);
	const listed = execFileSync('tar', ['-tf', o], {encoding: 'utf8'});
	assert.ok(listed.split('\n').length > 5, listed);
	assert.match(fs.readFileSync(`${o}.sha256`, 'utf8'), /^[0-9a-f]{64} {2}\S/);
	assert.equal(leftovers(), []);
	// the same export from the archive
	const a = cli(expArchive(path.join(out, 'from-archive.tar')));
	assert.is(a.code, 0, a.stderr);
	assert.equal(fs.readFileSync(path.join(out, 'from-archive.tar')), fs.readFileSync(o));
});

test('write errors: /dev/full as stdout and a full tmpfs: one line naming the output and the cause, exit 4, no partial file', () => {
	for (const args of [
		['model', '--root', root],
		['ls', '--root', root],
		['export', container, '-o', '-', '--root', root],
	]) {
		const fd = fs.openSync('/dev/full', 'w');
		let code: number | null;
		let stderr: string;
		try {
			const r = spawnTo(args, fd);
			code = r.code;
			stderr = r.stderr;
		} finally {
			fs.closeSync(fd);
		}
		assert.is(code, 4, `${args.join(' ')}: ${stderr}`);
		assert.equal(
			stderr.split('\n').filter(l => l !== ''),
			['layerlens: standard output cannot be written: no space left on device (ENOSPC)'],
		);
	}
	if (!isRoot) return console.log('  (tmpfs part skipped: mounting needs root)');
	const small = path.join(out, 'small');
	fs.mkdirSync(small);
	execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
	mounts.push(small);
	try {
		fs.writeFileSync(path.join(small, 'big.tar'), 'previous');
		const before = evidence();
		const r = cli(exp(path.join(small, 'big.tar'), '--hash'));
		assert.is(r.code, 4, r.stderr);
		assert.equal(
			r.stderr.split('\n').filter(l => l !== ''),
			[`layerlens: ${path.join(small, 'big.tar')}: cannot be written: no space left on device (ENOSPC)`],
		);
		assert.equal(fs.readdirSync(small), ['big.tar'], 'no partial output and no temporary file');
		assert.is(fs.readFileSync(path.join(small, 'big.tar'), 'utf8'), 'previous', 'the old output is kept as it was');
		assert.equal(evidence(), before);
	} finally {
		unbind(small);
	}
});

test('standard output appended to an evidence file (`>> ROOT/...`, or a hard link to one) is refused before anything is written', () => {
	const config = path.join(root, 'containers', container, 'config.v2.json');
	const hard = path.join(out, 'appended.json');
	fs.linkSync(config, hard);
	try {
		for (const [file, pattern] of [
			[config, /^layerlens: standard output \(.*config\.v2\.json\) is inside the Docker root being read/],
			[hard, /^layerlens: standard output \(.*appended\.json\) has 1 other hard link/],
		] as const) {
			const before = evidence();
			const fd = fs.openSync(file, 'a');
			let r: {code: number | null; stderr: string};
			try {
				r = spawnTo(['model', '--root', root], fd);
			} finally {
				fs.closeSync(fd);
			}
			assert.is(r.code, 2, r.stderr);
			assert.match(r.stderr, pattern);
			assert.is(r.stderr.trim().split('\n').length, 1);
			assert.equal(evidence(), before, 'nothing was appended');
		}
	} finally {
		fs.rmSync(hard);
	}
	// compare opens its roots itself: the same rule
	const config2 = path.join(root, 'containers', container, 'hostconfig.json');
	const before = evidence();
	const cfd = fs.openSync(config2, 'a');
	try {
		const r = spawnTo(['compare', archive, root], cfd);
		assert.is(r.code, 2, r.stderr);
		assert.match(r.stderr, /^layerlens: standard output \(.*hostconfig\.json\) is inside a root being read/);
	} finally {
		fs.closeSync(cfd);
	}
	assert.equal(evidence(), before);
	// an ordinary file outside is fine
	const fd = fs.openSync(path.join(out, 'model.json'), 'w');
	try {
		assert.is(spawnTo(['model', '--root', root], fd).code, 0);
	} finally {
		fs.closeSync(fd);
	}
	JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
});

test('SIGTERM and SIGINT during an export remove the temporary file and leave no output', async () => {
	if (!isRoot) return console.log('  (skipped: the tmpfs for a slow export needs root)');
	// A copy of the state with a 512 MiB sparse file in a container's RW layer: long enough to interrupt.
	const big = path.join(base, 'big');
	fs.mkdirSync(big);
	execFileSync('cp', ['-a', root, big]);
	const bigRoot = path.join(big, 'docker');
	const model = JSON.parse(cli(['model', '--root', bigRoot]).stdout) as {
		containers: Array<{id: string; mountId: string | null; driver: string}>;
	};
	const c = model.containers.find(x => x.mountId !== null && x.driver === 'overlay2')!;
	const sparse = path.join(bigRoot, 'overlay2', c.mountId!, 'diff', 'sparse.bin');
	fs.writeFileSync(sparse, '');
	fs.truncateSync(sparse, 512 << 20);
	const dir = path.join(out, 'sig');
	fs.mkdirSync(dir);
	execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1g', 'tmpfs', dir]);
	mounts.push(dir);
	try {
		for (const signal of ['SIGTERM', 'SIGINT'] as const) {
			const target = path.join(dir, `${signal}.tar`);
			const child = spawn(
				process.execPath,
				[path.join(repo, 'bin', 'layerlens'), 'export', c.id, '-o', target, '--hash', '--root', bigRoot],
				{stdio: 'ignore'},
			);
			const exited = new Promise<number | null>(resolve =>
				child.on('exit', (code, sig) => resolve(code ?? (sig === null ? null : -1))),
			);
			let seen = false;
			for (let i = 0; i < 3000 && !seen; i++) {
				seen = fs.readdirSync(dir).some(n => n.endsWith('.tmp'));
				if (!seen) await new Promise(r => setTimeout(r, 5));
			}
			assert.ok(seen, 'the temporary file appeared');
			child.kill(signal);
			const code = await exited;
			assert.is(code, signal === 'SIGTERM' ? 143 : 130);
			assert.equal(fs.readdirSync(dir), [], `${signal}: no temporary file and no output left`);
		}
	} finally {
		unbind(dir);
	}
});

function spawnTo(args: string[], stdoutFd: number): {code: number | null; stderr: string} {
	const r = spawnSync(process.execPath, [path.join(repo, 'bin', 'layerlens'), ...args], {
		stdio: ['ignore', stdoutFd, 'pipe'],
		encoding: 'utf8',
		env: {...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined},
	});
	return {code: r.status, stderr: r.stderr};
}

test.run();
