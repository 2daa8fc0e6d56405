// Names as bytes end to end, with a real dockerd (overlay2 and vfs): a container creates files
// whose names hold the byte 0xff (not UTF-8), an invisible character (U+200B) and a long name
// with a raw byte (PAX), a directory with a raw byte and a symlink whose target holds one.
// `layerlens export` equals `docker export` on those names, byte for byte (read with Python's
// tarfile, surrogateescape, as an independent reader); `files` shows `\xff` and `\u200b`; `cat`
// and `files` take those escaped forms as arguments.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {type Daemon, type Driver, cleanup, dockerdAvailable, startDockerd} from '../helpers/dockerd.ts';
import {BUSYBOX_APPLETS, busyboxRootfsTar} from '../helpers/real-states.ts';
import {cli} from '../helpers/run-cli.ts';
import {readTar} from '../helpers/files-compare.ts';
import {entryHeader, trailer} from '../../src/files/tar-writer.ts';
import {decodeName} from '../../src/formats/names.ts';

const avail = dockerdAvailable();

// The script runs in busybox sh: printf's octal escapes make the bytes.
const long = `${'l'.repeat(120)}\\377${'m'.repeat(20)}`;
const script = [
	'printf x > "$(printf \'/a\\377b\')"',
	'printf y > "$(printf \'/in\\342\\200\\213vis\')"',
	'mkdir "$(printf \'/d\\376\')"',
	'printf z > "$(printf \'/d\\376/f\\375\')"',
	'ln -s "$(printf \'/a\\377b\')" /lnk',
	`printf w > "$(printf '/${long}')"`,
].join(' && ');

/** Member names of a tar as hex bytes (Python tarfile with surrogateescape: an independent reader). */
function memberBytes(tar: string): Map<string, string> {
	const py = [
		'import sys, tarfile, json',
		"t = tarfile.open(sys.argv[1], encoding='utf-8', errors='surrogateescape')",
		"print(json.dumps({m.name.encode('utf-8', 'surrogateescape').hex(): (m.linkname.encode('utf-8', 'surrogateescape').hex() if m.issym() else m.type.decode()) for m in t.getmembers()}))",
	].join('\n');
	const out = execFileSync('python3', ['-c', py, tar], {encoding: 'utf8', maxBuffer: 64 << 20});
	return new Map(Object.entries(JSON.parse(out) as Record<string, string>));
}

const hex = (s: string | Buffer): string => Buffer.from(s as Buffer).toString('hex');

async function one(driver: Driver): Promise<void> {
	const work = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-names-${driver}-`));
	const daemon: Daemon = await startDockerd({driver});
	let root: string;
	try {
		const d = daemon.docker;
		d(['import', '-', 'local/nb:1'], {
			input: busyboxRootfsTar(path.join(work, 'rootfs'), [...BUSYBOX_APPLETS, 'printf', 'ln']),
		});
		d(['run', '--name', 'bytes', '--network', 'none', 'local/nb:1', 'sh', '-c', script]);
		d(['export', '-o', path.join(work, 'docker.tar'), 'bytes']);
		await daemon.stop();
		root = daemon.root;
	} catch (error) {
		await cleanup(daemon);
		fs.rmSync(work, {recursive: true, force: true});
		throw error;
	}
	try {
		const ours = path.join(work, 'ours.tar');
		const e = cli(['export', 'bytes', '-o', ours, '--hash', '--root', root]);
		assert.is(e.code, 0, e.stderr);
		const theirs = memberBytes(path.join(work, 'docker.tar'));
		const mine = memberBytes(ours);
		const wanted = [
			hex(Buffer.from([0x61, 0xff, 0x62])),
			hex(Buffer.from('in\u200bvis')),
			hex(Buffer.from([0x64, 0xfe])),
			hex(Buffer.from([0x64, 0xfe, 0x2f, 0x66, 0xfd])),
			hex('lnk'),
			hex(Buffer.concat([Buffer.from('l'.repeat(120)), Buffer.from([0xff]), Buffer.from('m'.repeat(20))])),
		];
		for (const w of wanted) {
			assert.ok(theirs.has(w) || theirs.has(`${w}2f`), `docker export has ${w}`);
			assert.ok(mine.has(w) || mine.has(`${w}2f`), `layerlens export has ${w}`);
		}
		assert.equal(
			[...mine.entries()].sort(),
			[...theirs.entries()].sort(),
			`${driver}: every member name (and symlink target) is byte-identical to docker export`,
		);
		assert.is(mine.get(hex('lnk')), hex(Buffer.from([0x2f, 0x61, 0xff, 0x62])), 'the symlink target keeps its byte');
		// GNU tar reads the same raw names from our tar, without a warning.
		const gnu = spawnSync('tar', ['--quoting-style=literal', '-tf', ours], {maxBuffer: 64 << 20});
		assert.is(gnu.status, 0);
		assert.is(gnu.stderr.toString(), '', 'GNU tar says nothing');
		assert.ok(gnu.stdout.includes(Buffer.from([0x0a, 0x61, 0xff, 0x62, 0x0a])), 'GNU tar lists a\\xffb');
		// The manifest names the file by its bytes too.
		assert.ok(
			fs.readFileSync(`${ours}.sha256`).includes(Buffer.from([0x20, 0x61, 0xff, 0x62, 0x0a])),
			'the sha256 manifest has the raw name',
		);
		// files shows the escapes; cat and files take them.
		const files = cli(['files', 'bytes', '--root', root]);
		assert.is(files.code, 0, files.stderr);
		assert.match(files.stdout, /\/a\\xffb\b/);
		assert.match(files.stdout, /\/in\\u200bvis/);
		assert.match(files.stdout, /\/d\\xfe\/f\\xfd/);
		assert.not.match(files.stdout, /\ufffd|\u200b/);
		const json = cli(['files', 'bytes', '--json', '--root', root]);
		assert.ok(json.stdout.includes('"/a\\udcffb"'), 'JSON keeps the byte as \\udcff');
		for (const [arg, want] of [
			['/a\\xffb', 'x'],
			['/in\\u200bvis', 'y'],
			['/in\u200bvis', 'y'],
			['/d\\xfe/f\\xfd', 'z'],
			['/lnk', 'x'],
			[`/${long.replace('\\377', '\\xff')}`, 'w'],
		] as const) {
			const c = cli(['cat', 'bytes', arg, '--root', root]);
			assert.is(c.code, 0, `cat ${arg}: ${c.stderr}`);
			assert.is(c.stdout, want, `cat ${arg}`);
		}
		const sub = cli(['files', 'bytes', '/d\\xfe', '--root', root]);
		assert.is(sub.code, 0, sub.stderr);
		assert.match(sub.stdout, /\/d\\xfe\/f\\xfd/);
		const missing = cli(['cat', 'bytes', '/a\\xfeb', '--root', root]);
		assert.is(missing.code, 2);
		assert.match(missing.stderr, /no such file/);
	} finally {
		await cleanup(daemon);
		fs.rmSync(work, {recursive: true, force: true});
	}
}

test("the tar writer puts a name's raw bytes in PAX path and linkpath records, and our tar reader gets the same name back", () => {
	const name = decodeName(Buffer.from([0x61, 0xff, 0x62]));
	const target = decodeName(Buffer.from([0x2f, 0xfe]));
	const h = entryHeader({name, type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtimeMs: 0, size: 0, linkname: target});
	assert.ok(h.includes(Buffer.from([0x20, 0x70, 0x61, 0x74, 0x68, 0x3d, 0x61, 0xff, 0x62, 0x0a])), 'path=a\\xffb');
	assert.ok(h.includes(Buffer.from([...Buffer.from(' linkpath='), 0x2f, 0xfe, 0x0a])), 'linkpath=/\\xfe');
	assert.not.ok(h.includes(Buffer.from([0xef, 0xbf, 0xbd])), 'no U+FFFD anywhere');
	assert.not.ok(h.includes(Buffer.from('hdrcharset')));
	const back = readTar(Buffer.concat([h, trailer()]));
	assert.equal([...back.keys()], [name]);
	assert.is(back.get(name)!.link, target);
});

if (!avail.ok) {
	test('names as bytes with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: dockerd harness: ${avail.why}`);
	});
} else {
	for (const driver of ['overlay2', 'vfs'] as const)
		test(`${driver}: export = docker export on non-UTF-8 and invisible names; files shows them escaped; cat takes the escapes`, () =>
			one(driver));
}

test.run();
