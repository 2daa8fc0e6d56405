// End to end with a real dockerd (vfs, overlay2, fuse-overlayfs): an image whose layers delete and
// recreate files and directories, and containers that add, change and delete files, delete and
// recreate directories, replace files by directories, write into volumes and make hostile names
// (test/helpers/files-scenario.ts). After the daemon stops, `layerlens diff` must equal `docker
// diff` for every container, and `layerlens export` must equal `docker export` in paths, types,
// modes, sizes, link targets, devices, owners and contents, from the root and from a .tgz of it
// (made as a user would, with 70 MiB of random padding beside the root so that the archive is read
// through the streaming inflater, in archive order, not held whole).
// FILES_E2E_STATE=DIR reuses states made by test/helpers/files-dev-run.ts (DIR/<driver>/).
import {execFileSync} from 'node:child_process';
import {createHash, randomBytes} from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {DRIVERS, cleanup, dockerdAvailable, startDockerd, type Driver} from '../helpers/dockerd.ts';
import {asDockerLines, describe, readTar} from '../helpers/files-compare.ts';
import {ll} from '../helpers/files-run.ts';
import {type FilesExpected, SCENARIOS, makeFilesState} from '../helpers/files-scenario.ts';

type State = {root: string; out: string; expected: FilesExpected; dispose(): Promise<void>};

async function state(driver: Driver): Promise<State> {
	const reuse = process.env.FILES_E2E_STATE;
	if (reuse !== undefined) {
		const out = path.join(reuse, driver);
		return {
			root: path.join(out, 'd', 'data'),
			out,
			expected: JSON.parse(fs.readFileSync(path.join(out, 'files-expected.json'), 'utf8')),
			dispose: async () => {},
		};
	}
	const daemon = await startDockerd({driver});
	const out = path.join(daemon.dir, 'out');
	fs.mkdirSync(out);
	try {
		const expected = makeFilesState(daemon, out);
		await daemon.stop();
		// The deep directory of c_deep is longer than PATH_MAX: fs.rmSync cannot remove it, GNU rm can.
		const dispose = async (): Promise<void> => {
			await daemon.stop();
			execFileSync('find', [
				daemon.root,
				'-mindepth',
				'2',
				'-maxdepth',
				'4',
				'-name',
				'dp',
				'-type',
				'd',
				'-prune',
				'-exec',
				'rm',
				'-rf',
				'--one-file-system',
				'{}',
				'+',
			]);
			await cleanup(daemon);
		};
		return {root: daemon.root, out, expected, dispose};
	} catch (e) {
		await cleanup(daemon);
		throw e;
	}
}

const avail = dockerdAvailable();

if (!avail.ok) {
	test('files end to end with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: files e2e: ${avail.why}`);
	});
} else {
	// The legacy overlay driver too (dockerd 20.10 still has it): image layers are full copies, containers upper/ over lower-id.
	for (const driver of [...DRIVERS, 'overlay'] as Driver[]) {
		test(`files e2e on ${driver}: diff = docker diff, export = docker export`, async () => {
			const t0 = Date.now();
			const s = await state(driver);
			const t1 = Date.now();
			try {
				const {root, out, expected} = s;
				const tgz = path.join(out, 'state.tgz');
				fs.writeFileSync(path.join(out, 'pad.bin'), randomBytes(70 << 20));
				execFileSync('tar', [
					'--xattrs',
					'--xattrs-include=*',
					'-czf',
					tgz,
					'-C',
					path.dirname(root),
					path.basename(root),
					'-C',
					out,
					'pad.bin',
				]);
				fs.rmSync(path.join(out, 'pad.bin'));
				for (const name of Object.keys(SCENARIOS)) {
					const who = `${driver} ${name}`;
					// diff
					const d = await ll(['diff', name, '--json', '--root', root]);
					assert.is(d.code, 0, `${who}: diff exit code; ${d.stderr}`);
					const got = JSON.parse(d.stdout) as {
						changes: Array<{kind: string; path: string}>;
						findings: Array<{code: string}>;
					};
					const want = expected.diffs[name]!;
					if (Array.isArray(want) && driver === 'fuse-overlayfs' && name === 'c_recreate') {
						// fuse-overlayfs: docker diff walks the container's FUSE mount, whose lookups still find
						// children of directories deleted and recreated in the RW layer (its readdir and docker
						// export do not): docker diff misses those deletions. layerlens prints every line docker
						// printed, and the extra ones are exactly those deletions (absent from docker export too).
						const mine = asDockerLines(got.changes);
						for (const l of want) assert.ok(mine.includes(l), `${who}: has docker's line ${l}`);
						const exported = readTar(expected.exports[name] as string);
						const extra = mine.filter(l => !want.includes(l));
						for (const l of extra) {
							const p = l.slice(3);
							if (l.startsWith('D ')) assert.not.ok(exported.has(p), `${who}: ${l} is deleted in docker export too`);
							else
								assert.ok(
									l.startsWith('C ') && extra.some(x => x.startsWith(`D /${p}/`)),
									`${who}: ${l} only holds such deletions`,
								);
						}
						assert.ok(extra.length > 0 && extra.length <= 6, `${who}: extra lines ${extra.join(', ')}`);
					} else if (Array.isArray(want)) {
						assert.equal(asDockerLines(got.changes), [...want].sort(), `${who}: diff = docker diff`);
						assert.equal(got.findings, [], `${who}: no findings`);
					} else {
						// docker diff itself fails on a path over PATH_MAX; layerlens resolves one directory at a
						// time beneath the root (src/sources/door.ts), so it reads all of it.
						assert.ok(/lstat/.test(want.error), `${who}: docker diff failed as expected: ${want.error}`);
						assert.equal(got.findings, [], `${who}: nothing unreadable`);
						assert.ok(
							got.changes.some(c => c.kind === 'A' && c.path === '/dp'),
							`${who}: the deep directory is listed`,
						);
						// (fuse-overlayfs itself stops short of PATH_MAX in its upper directory: nothing is deeper there)
						if (driver !== 'fuse-overlayfs')
							assert.ok(
								got.changes.some(c => c.kind === 'A' && c.path.length > 4096),
								`${who}: and what is past PATH_MAX`,
							);
					}
					// export
					const tar = path.join(out, `${name}.layerlens.tar`);
					const e = await ll(['export', name, '-o', tar, '--root', root]);
					assert.is(e.code, 0, `${who}: export exit code; ${e.stderr}`);
					const theirs = expected.exports[name]!;
					assert.type(theirs, 'string', `${who}: docker export worked`);
					if (name === 'c_deep') {
						// docker export stops at PATH_MAX under its mount point; layerlens goes to the bottom.
						const mine = readTar(tar);
						const docker = readTar(theirs as string);
						const common = [...docker.keys()].filter(k => mine.has(k));
						assert.is(common.length, docker.size, `${who}: every member docker exported is there`);
						if (driver !== 'fuse-overlayfs')
							assert.ok(
								[...mine.keys()].some(k => k.length > 4096),
								`${who}: and what is past PATH_MAX`,
							);
						assert.not.match(e.stderr, /files\.unreadable/, `${who}: nothing unreadable`);
						continue;
					}
					assert.equal(describe(readTar(tar)), describe(readTar(theirs as string)), `${who}: export = docker export`);
					assert.is(e.stderr.replace(/^layerlens: wrote .*\n/m, ''), '', `${who}: no findings`);
					// And from the .tgz: the same members (regular files in archive order, one pass).
					const fromTgz = path.join(out, `${name}.tgz.tar`);
					const z = await ll(['export', name, '-o', fromTgz, '--root', tgz]);
					assert.is(z.code, 0, `${who}: export from the .tgz; ${z.stderr}`);
					assert.equal(
						describe(readTar(fromTgz)),
						describe(readTar(theirs as string)),
						`${who}: export from the .tgz = docker export`,
					);
					assert.is(z.stderr.replace(/^layerlens: wrote .*\n/m, ''), '', `${who}: no findings from the .tgz`);
				}
				// --hash: a sha256 manifest of every regular file, beside the tar
				const tar = path.join(out, 'hash.tar');
				const h = await ll(['export', 'c_add', '-o', tar, '--hash', '--root', root]);
				assert.is(h.code, 0, h.stderr);
				const members = readTar(tar);
				const manifest = fs.readFileSync(`${tar}.sha256`, 'utf8').trim().split('\n');
				const files = [...members.values()].filter(m => m.type === 'file' || m.type === 'hardlink');
				assert.is(manifest.length, files.length, 'one manifest line per regular file');
				const busybox = manifest.find(l => l.endsWith('  bin/busybox'));
				assert.is(
					busybox?.slice(0, 64),
					createHash('sha256').update(fs.readFileSync('/bin/busybox')).digest('hex'),
					'bin/busybox hash',
				);
				// cat: through the container's view, symlinks followed inside it
				const cat = await ll(['cat', 'c_add', '/mod.txt', '--root', root]);
				assert.is(cat.stdout, 'm\nmore\n', 'cat /mod.txt');
				const rel = await ll(['cat', 'c_replace', '/rel', '--root', root]);
				assert.is(rel.stdout, 'a\n', 'cat /rel (relative symlink to /d1/a)');
				const gone = await ll(['cat', 'c_del', '/keep/k', '--root', root]);
				assert.is(gone.code, 2, 'a deleted file is not there');
				const loop = await ll(['cat', 'c_hostile', '/loop1', '--root', root]);
				assert.is(loop.code, 2);
				assert.match(loop.stderr, /too many levels of symbolic links/);
				const esc = await ll(['cat', 'c_hostile', '/esc/etc/passwd', '--root', root]);
				assert.is(esc.code, 2, '/proc/self/root is resolved inside the view (no /proc there), never on the host');
				// files: the merged view lists what export writes
				const f = await ll(['files', 'c_recreate', '--json', '--root', root]);
				const listed = (JSON.parse(f.stdout) as {entries: Array<{path: string}>}).entries
					.map(x => x.path.slice(1))
					.sort();
				const exported = [...readTar(path.join(out, 'c_recreate.layerlens.tar')).keys()].sort();
				assert.equal(listed, exported, 'files lists what export writes');
				// files of the RW layer: what it does to the layers below
				const mount = fs
					.readFileSync(
						path.join(root, 'image', driver, 'layerdb', 'mounts', expected.ids.c_recreate!, 'mount-id'),
						'utf8',
					)
					.trim();
				const rw = await ll(['files', mount, '--json', '--root', root]);
				assert.is(rw.code, 0, rw.stderr);
				const status = new Map(
					(JSON.parse(rw.stdout) as {entries: Array<{path: string; status: string}>}).entries.map(x => [
						x.path,
						x.status,
					]),
				);
				assert.is(status.get('/d1/n'), 'added', `${driver}: /d1/n added`);
				if (driver === 'vfs') {
					// a full copy compared with its parent: the children of the recreated directories are deleted
					assert.is(status.get('/opq/o'), 'deleted', `${driver}: /opq/o deleted`);
					assert.is(status.get('/d1/a'), 'deleted', `${driver}: /d1/a deleted`);
				} else {
					// the kernel (and fuse-overlayfs) mark the recreated directories opaque instead of whiting out their children
					assert.is(status.get('/d1'), 'opaque', `${driver}: /d1 recreated: opaque`);
					assert.is(status.get('/opq'), 'opaque', `${driver}: /opq recreated: opaque`);
					assert.is(status.get('/opq/o'), undefined, `${driver}: no whiteout under an opaque directory`);
				}
				const del = await ll([
					'files',
					fs
						.readFileSync(
							path.join(root, 'image', driver, 'layerdb', 'mounts', expected.ids.c_del!, 'mount-id'),
							'utf8',
						)
						.trim(),
					'--json',
					'--root',
					root,
				]);
				const delStatus = new Map(
					(JSON.parse(del.stdout) as {entries: Array<{path: string; status: string; type: string}>}).entries.map(x => [
						x.path,
						x,
					]),
				);
				assert.is(delStatus.get('/keep/k')?.status, 'deleted', `${driver}: /keep/k deleted`);
				assert.is(delStatus.get('/bin/ls')?.status, 'deleted', `${driver}: /bin/ls deleted`);
				assert.is(delStatus.get('/keep')?.status, 'modified', `${driver}: /keep modified`);
				if (driver !== 'vfs') assert.is(delStatus.get('/keep/k')?.type, 'whiteout', `${driver}: shown as a whiteout`);
				// and the state is clean for check (for legacy overlay this is its only real-daemon check)
				const chk = await ll(['check', '--json', '--root', root]);
				const serious = (
					JSON.parse(chk.stdout) as {findings: Array<{severity: string; code: string; message: string}>}
				).findings.filter(x => x.severity !== 'info');
				assert.equal(serious, [], `${driver}: check finds nothing wrong`);
				console.log(`  ${driver}: state ${t1 - t0} ms, checks ${Date.now() - t1} ms`);
			} finally {
				await s.dispose();
			}
		});
	}
}

test.run();
