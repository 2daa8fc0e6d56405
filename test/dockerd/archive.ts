// Content from a real state's .tgz, with a real dockerd (overlay2): a container holding a 300 MB
// file of random bytes in its RW layer, archived as a user would (`tar --xattrs
// --xattrs-include='*' -czf`). From the .tgz, `export` equals `export` from the directory and
// `docker export` member for member (content sha256 included), `cat` of the big file hashes equal,
// `check --deep` equals the directory's; each in bounded memory (peak RSS of the whole process,
// GNU time's %M). Then a gzip bomb made from the same state (a 10 GiB file of zeros in the RW
// layer, a ~10 MB .tgz): every command finishes, in bounded memory, and says what it did.
// One state for every case; the bomb is made without deflating its zeros (helpers/gzip-bomb.ts).
// About 5 minutes on a loaded 2-core machine.
import {execFileSync, spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import * as fs from 'node:fs';
import nodeFs from 'node:fs';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {TarParser} from '../../src/formats/tar-format.ts';
import {cleanup, dockerdAvailable, startDockerd, type Daemon} from '../helpers/dockerd.ts';
import {type Member, describe, memberOf} from '../helpers/files-compare.ts';
import {tgzWithZeros} from '../helpers/gzip-bomb.ts';
import {BUSYBOX_APPLETS, busyboxRootfsTar} from '../helpers/real-states.ts';

const repo = path.join(import.meta.dirname, '..', '..');
const entry = path.join(repo, 'test', 'helpers', 'cli-main.ts');
/**
 * Peak RSS allowed for one command on the .tgz (Node + tsx alone take about 90 MB; the same
 * commands on the extracted directory, with its 25 000-file directory, take up to about 210 MB).
 */
const RSS_MAX_KB = 256 * 1024;
const BIG_MB = 300;

type Ran = {code: number; stderr: string; rssKB: number; ms: number};

/** A layerlens command line in its own process, stdout to a file (or through `| wc -c` when count is set). */
function run(args: string[], stdoutFile: string | null, dir: string): Ran & {count?: number} {
	const rss = path.join(dir, 'rss.txt');
	const t0 = Date.now();
	const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
	const cmd = ['/usr/bin/time', '-f', '%M', '-o', rss, process.execPath, '--import', 'tsx', entry, ...args]
		.map(q)
		.join(' ');
	const shell = stdoutFile === null ? `set -o pipefail; ${cmd} | wc -c` : `${cmd} > ${q(stdoutFile)}`;
	const r = spawnSync('bash', ['-c', shell], {cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20});
	const ms = Date.now() - t0;
	const rssKB = Number(fs.readFileSync(rss, 'utf8').trim().split('\n').pop());
	return {
		code: r.status ?? -1,
		stderr: r.stderr,
		rssKB,
		ms,
		...(stdoutFile === null ? {count: Number(r.stdout.trim())} : {}),
	};
}

function sha256File(file: string): string {
	const h = createHash('sha256');
	const fd = fs.openSync(file, 'r');
	const buf = Buffer.allocUnsafe(4 << 20);
	try {
		for (let n: number; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
	} finally {
		fs.closeSync(fd);
	}
	return h.digest('hex');
}

/** files-compare's members of a plain tar file, streamed (headers first, then each member's content hashed from its range): for tars too big for readTar. */
function membersOf(file: string): Map<string, Member> {
	const out = new Map<string, Member>();
	const ranges = new Map<string, {offset: number; size: number}>();
	const problems: string[] = [];
	const parser = new TarParser({
		entry: h => {
			const m = memberOf(h);
			out.set(m.path, m);
			if (h.type === 'file' && h.size > 0) ranges.set(m.path, {offset: h.dataOffset, size: h.dataSize});
			return false;
		},
		data: () => {},
		truncated: h => problems.push(`truncated: ${h.name}`),
		problem: m => problems.push(m),
	});
	const fd = fs.openSync(file, 'r');
	try {
		const buf = Buffer.allocUnsafe(1 << 20);
		for (let n: number; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; )
			if (!parser.push(buf.subarray(0, n))) break;
		parser.end();
		if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
		for (const [p, r] of ranges) {
			const h = createHash('sha256');
			for (let pos = 0; pos < r.size; ) {
				const n = fs.readSync(fd, buf, 0, Math.min(buf.length, r.size - pos), r.offset + pos);
				if (n === 0) throw new Error(`${file}: ${p} ends early`);
				h.update(buf.subarray(0, n));
				pos += n;
			}
			out.get(p)!.sha256 = h.digest('hex');
		}
	} finally {
		fs.closeSync(fd);
	}
	return out;
}

type CheckJson = {
	root: string;
	findings: Array<{severity: string; code: string}>;
	objects: Array<{subject: string; kind: string; checks: Array<{check: string; status: string; note?: string}>}>;
};

const avail = dockerdAvailable();

if (!avail.ok) {
	test('archive content with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: archive content: ${avail.why}`);
	});
} else {
	let daemon: Daemon | undefined;
	let work = '';
	let root = '';
	let tgz = '';
	let rwDir = '';
	let dockerExport = '';

	test.before(async () => {
		daemon = await startDockerd({driver: 'overlay2'});
		const d = daemon.docker;
		work = path.join(daemon.dir, 'work');
		const ctx = path.join(work, 'ctx');
		fs.mkdirSync(path.join(ctx, 'files'), {recursive: true});
		d(['import', '-', 'local/busybox:1'], {
			input: busyboxRootfsTar(path.join(work, 'rootfs'), [...BUSYBOX_APPLETS, 'dd', 'ln', 'mkfifo', 'printf']),
		});
		// An image with content in several layers, for check --deep: 60 small files, one of 8 MB; a layer of
		// 25 000 files (more entries than a window holds, a record over 1 MiB) and one of 80 MiB (two windows).
		for (let i = 0; i < 60; i++)
			fs.writeFileSync(
				path.join(ctx, 'files', `f${i}`),
				createHash('sha256')
					.update(`f${i}`)
					.digest('hex')
					.repeat(i * 20 + 1),
			);
		fs.writeFileSync(
			path.join(ctx, 'Dockerfile'),
			[
				'FROM local/busybox:1',
				'COPY files/ /files/',
				'RUN dd if=/dev/urandom of=/img.bin bs=1048576 count=8',
				'RUN mkdir /many && i=0 && while [ $i -lt 25000 ]; do echo "file $i" > /many/f$i; i=$((i+1)); done',
				'RUN mkdir /mb && i=0 && while [ $i -lt 80 ]; do dd if=/dev/urandom of=/mb/f$i bs=1048576 count=1 2>/dev/null; i=$((i+1)); done',
				'CMD ["sh"]',
				'',
			].join('\n'),
		);
		d(['build', '-q', '-t', 'local/arch:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
		// Beside the big file: hard links, a symlink, a FIFO, a control-character name, a file deleted and a directory of the image recreated (opaque).
		const script = [
			`dd if=/dev/urandom of=/big.bin bs=1048576 count=${BIG_MB} 2>/dev/null`,
			'echo note > /note.txt',
			'rm /files/f1',
			'mkdir -p /d && echo a > /d/a && ln /d/a /d/hard && ln /d/a /hard2 && ln -s /d/a /d/sym && mkfifo /d/fifo',
			`touch "/d/$(printf 'esc\\033[2Jname')"`,
			'rm -r /files && mkdir /files && echo n > /files/new',
			'cat /img.bin > /img-copy.bin',
		].join(' && ');
		d(['run', '--name', 'big', 'local/arch:1', 'sh', '-c', script]);
		dockerExport = path.join(work, 'docker-export.tar');
		d(['export', '-o', dockerExport, 'big']);
		const id = d(['inspect', '-f', '{{.Id}}', 'big']).trim();
		await daemon.stop();
		root = daemon.root;
		const mount = fs
			.readFileSync(path.join(root, 'image', 'overlay2', 'layerdb', 'mounts', id, 'mount-id'), 'utf8')
			.trim();
		rwDir = path.join(root, 'overlay2', mount, 'diff');
		tgz = path.join(work, 'state.tgz');
		execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-czf', tgz, '-C', daemon.dir, 'data']);
		console.log(`  state: ${(fs.statSync(tgz).size / 1e6).toFixed(0)} MB .tgz`);
	});

	test.after(async () => {
		if (daemon !== undefined) await cleanup(daemon);
	});

	test(`export of a container with a ${BIG_MB} MB file: from the .tgz = from the directory = docker export, in bounded memory`, () => {
		const fromDir = path.join(work, 'dir.tar');
		const fromTgz = path.join(work, 'tgz.tar');
		const a = run(['export', 'big', '-o', fromDir, '--root', root], null, work);
		const b = run(['export', 'big', '-o', fromTgz, '--root', tgz], null, work);
		assert.is(a.code, 0, a.stderr);
		assert.is(b.code, 0, b.stderr);
		console.log(`  export: directory ${a.ms} ms ${a.rssKB >> 10} MB, .tgz ${b.ms} ms ${b.rssKB >> 10} MB`);
		assert.ok(b.rssKB < RSS_MAX_KB, `export from the .tgz: peak RSS ${b.rssKB} KB`);
		const mine = describe(membersOf(fromTgz));
		assert.equal(mine, describe(membersOf(fromDir)), 'the same members as from the directory');
		assert.equal(mine, describe(membersOf(dockerExport)), 'the same members as docker export');
		const big = membersOf(fromTgz).get('big.bin');
		assert.is(big?.size, BIG_MB << 20);
		assert.is(big?.sha256, sha256File(path.join(rwDir, 'big.bin')), 'the big file, byte for byte');
		const members = membersOf(fromTgz);
		assert.not.ok(
			members.has('files/f1') || members.has('files/f2'),
			'deleted files stay deleted (the directory was recreated)',
		);
		assert.ok(members.has('files/new'));
		assert.ok(
			members.get('d/hard')?.type === 'hardlink' || members.get('d/a')?.type === 'hardlink',
			'hard links stay hard links',
		);
		assert.is(members.get('d/fifo')?.type, 'fifo');
		assert.ok(members.has('d/esc\x1b[2Jname'), 'a control-character name, exactly');
		assert.is(members.get('img-copy.bin')?.sha256, members.get('img.bin')?.sha256);
	});

	test(`cat of the ${BIG_MB} MB file from the .tgz hashes equal, in bounded memory`, () => {
		const out = path.join(work, 'cat.bin');
		const r = run(['cat', 'big', '/big.bin', '--root', tgz], out, work);
		assert.is(r.code, 0, r.stderr);
		console.log(`  cat: ${r.ms} ms ${r.rssKB >> 10} MB`);
		assert.ok(r.rssKB < RSS_MAX_KB, `cat: peak RSS ${r.rssKB} KB`);
		assert.is(sha256File(out), sha256File(path.join(rwDir, 'big.bin')));
		fs.rmSync(out);
	});

	test('check --deep on the .tgz equals the directory, every layer verified, in a few passes', async () => {
		const a = run(['check', '--deep', '--json', '--root', root], path.join(work, 'dir.json'), work);
		const b = run(['check', '--deep', '--json', '--root', tgz], path.join(work, 'tgz.json'), work);
		assert.is(a.code, 0, a.stderr);
		assert.is(b.code, 0, b.stderr);
		console.log(`  check --deep: directory ${a.ms} ms ${a.rssKB >> 10} MB, .tgz ${b.ms} ms ${b.rssKB >> 10} MB`);
		assert.ok(b.rssKB < RSS_MAX_KB, `check --deep: peak RSS ${b.rssKB} KB`);
		const dir = JSON.parse(fs.readFileSync(path.join(work, 'dir.json'), 'utf8')) as CheckJson;
		const arc = JSON.parse(fs.readFileSync(path.join(work, 'tgz.json'), 'utf8')) as CheckJson;
		assert.equal({...arc, root: ''}, {...dir, root: ''});
		const layers = arc.objects.filter(o => o.kind === 'layer');
		assert.ok(layers.length >= 5, `${layers.length} layers`);
		for (const o of layers)
			assert.is(
				o.checks.find(c => c.check === 'layer.content')?.status,
				'pass',
				`${o.subject}: ${JSON.stringify(o.checks.find(c => c.check === 'layer.content'))}`,
			);
		// Passes: every compressed byte read after opening goes through fs.readSync (the opening pass streams).
		const read = nodeFs.readSync;
		let bytes = 0;
		nodeFs.readSync = ((...a: Parameters<typeof fs.readSync>) => {
			const n = read(...a);
			bytes += n;
			return n;
		}) as typeof fs.readSync;
		let code = -1;
		try {
			code = await (await import('../../src/cli.ts')).run(['check', '--deep', '--root', tgz], {
				stdout: {write: () => true},
				stderr: {write: () => true},
				env: {},
			});
		} finally {
			nodeFs.readSync = read;
		}
		const size = fs.statSync(tgz).size;
		console.log(`  check --deep on the .tgz: ${(bytes / size).toFixed(2)} passes over the archive`);
		assert.is(code, 0);
		// A layer's files are hashed in its record's order, read in windows of 16 MiB in archive order:
		// where tar wrote a directory in another order than the record (readdir order of the file system
		// the state was archived from), each window of a big layer can cost a pass. This state has a
		// 25 000-file layer and an 80 MiB one (about 10 windows): a pass per window at most, never one
		// per file (that would be thousands).
		assert.ok(
			bytes <= 16 * size,
			`check --deep read ${bytes} bytes of a ${size}-byte archive: at most a pass per window, not one per file`,
		);
	});

	test('gzip bomb: a 10 GiB file of zeros in a ~10 MB .tgz: every command finishes in bounded memory and says what it did', async () => {
		const GIB10 = 10 * 1024 ** 3;
		const bombFile = path.join(rwDir, 'bomb.bin');
		execFileSync('truncate', ['-s', String(GIB10), bombFile]);
		fs.rmSync(path.join(rwDir, 'big.bin'));
		const bomb = path.join(work, 'bomb.tgz');
		// The stream `tar --xattrs --xattrs-include='*' -czf` would write, without deflating 10 GiB of zeros.
		const t0 = Date.now();
		const zeros = await tgzWithZeros(
			path.dirname(root),
			['--xattrs', '--xattrs-include=*'],
			[path.basename(root)],
			path.relative(path.dirname(root), bombFile),
			bomb,
		);
		fs.rmSync(bombFile);
		assert.is(zeros, GIB10);
		const size = fs.statSync(bomb).size;
		console.log(`  bomb: ${(size / 1e6).toFixed(1)} MB .tgz in ${Date.now() - t0} ms`);
		// The state without its 300 MB file is about 100 MB compressed (88 MB of random bytes in the image); the 10 GiB of zeros add about 10 MB.
		assert.ok(size < 150e6, `${size} bytes`);
		const ls = run(['ls', '--root', bomb], path.join(work, 'ls.txt'), work);
		assert.is(ls.code, 0, ls.stderr);
		assert.match(fs.readFileSync(path.join(work, 'ls.txt'), 'utf8'), /big/);
		const check = run(['check', '--deep', '--root', bomb], path.join(work, 'check.txt'), work);
		assert.is(check.code, 0, check.stderr);
		const cat = run(['cat', 'big', '/bomb.bin', '--root', bomb], null, work);
		assert.is(cat.code, 0, cat.stderr);
		assert.is(cat.count, GIB10, 'cat writes the 10 GiB');
		const exp = run(['export', 'big', '-o', '-', '--root', bomb], null, work);
		assert.is(exp.code, 0, exp.stderr);
		assert.ok((exp.count ?? 0) > GIB10, `export writes the 10 GiB and the rest (${exp.count} bytes)`);
		for (const [name, r] of Object.entries({ls, 'check --deep': check, cat, export: exp})) {
			console.log(`  bomb ${name}: ${r.ms} ms, ${r.rssKB >> 10} MB`);
			assert.ok(r.rssKB < RSS_MAX_KB, `${name}: peak RSS ${r.rssKB} KB`);
		}
	});
}

test.run();
