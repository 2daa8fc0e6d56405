// btrfs from a real daemon: a sparse file made into a btrfs file system, loop-mounted on
// <dir>/data, a real dockerd with --storage-driver btrfs on it, the standard state
// (test/helpers/real-states.ts), the files scenario (test/helpers/files-scenario.ts) and a container
// with --storage-opt size= (btrfs/quotas/<id>). After the daemon stops, layerlens reads the root at
// rest and must say what the daemon said: chains (btrfs/subvolumes/<id>, each a subvolume, each child
// a snapshot of its parent: the reference layout notes §3.6, moby daemon/graphdriver/btrfs/btrfs.go), ids as
// docker inspect and docker image inspect give them, `diff` = docker diff and `export` = docker export
// for every container (btrfs layers are full snapshots, compared with their parent as for vfs),
// check --deep clean. The file system is unmounted and its image deleted afterwards, even on failure.
// Skipped (with the reason) only when btrfs cannot be mounted here: no root, no mkfs.btrfs, no loop device.
import {execFileSync, spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {runChecks} from '../../src/checks/index.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {compareWithDaemon} from '../helpers/compare-daemon.ts';
import {type Daemon, cleanup, dockerdAvailable, mountsUnder, startDockerd} from '../helpers/dockerd.ts';
import {asDockerLines, describe, readTar} from '../helpers/files-compare.ts';
import {ll} from '../helpers/files-run.ts';
import {SCENARIOS, makeFilesState} from '../helpers/files-scenario.ts';
import {type Expected, captureExpected, makeStandardState} from '../helpers/real-states.ts';

/** The standard state's containers (the files scenario's are in SCENARIOS), and the one with a size quota. */
const STANDARD = [
	'docker_test',
	'app_exited',
	'app_stopped',
	'renamed',
	'from_old',
	'local_logs',
	'paused_c',
	'quota_c',
];

type Mounted = {readonly dir: string; readonly imageDir: string; readonly data: string};

/** Makes `<dir>/data` a fresh btrfs file system on a loop-mounted sparse file; the reason when it cannot. */
function mountBtrfs(): {ok: true; m: Mounted} | {ok: false; why: string} {
	if (spawnSync('mkfs.btrfs', ['--version'], {encoding: 'utf8'}).error !== undefined)
		return {ok: false, why: 'mkfs.btrfs not found (install btrfs-progs)'};
	const dir = fs.mkdtempSync(path.join('/tmp', 'll-btrfs-'));
	const imageDir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-btrfs-img-'));
	const m = {dir, imageDir, data: path.join(dir, 'data')};
	const image = path.join(imageDir, 'btrfs.img');
	try {
		fs.writeFileSync(image, '');
		fs.truncateSync(image, 2 * 1024 ** 3);
		execFileSync('mkfs.btrfs', ['-q', image], {stdio: 'pipe'});
		fs.mkdirSync(m.data);
		execFileSync('mount', ['-t', 'btrfs', '-o', 'loop', image, m.data], {stdio: 'pipe'});
		return {ok: true, m};
	} catch (e) {
		unmountAndRemove(m);
		const err = e as Error & {stderr?: Buffer};
		return {
			ok: false,
			why: `cannot make and loop-mount a btrfs file system: ${(err.stderr?.toString() || err.message).trim().split('\n')[0]}`,
		};
	}
}

/** Unmounts whatever is still mounted under the test's folder (the loop device goes with it: mount -o loop sets autoclear), then deletes the folder and the image file. */
function unmountAndRemove(m: Mounted): void {
	for (let round = 0; round < 3; round++) {
		const left = mountsUnder(m.dir);
		if (left.length === 0) break;
		for (const mp of left) spawnSync('umount', round < 2 ? [mp] : ['-l', mp]);
	}
	if (mountsUnder(m.dir).length === 0) fs.rmSync(m.dir, {recursive: true, force: true, maxRetries: 3});
	fs.rmSync(m.imageDir, {recursive: true, force: true, maxRetries: 3});
}

const avail = dockerdAvailable();

if (!avail.ok) {
	test('btrfs with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: btrfs dockerd: ${avail.why}`);
	});
} else {
	test('btrfs from a real dockerd: chains, ids, diff, export and check against the daemon', async () => {
		const mounted = mountBtrfs();
		if (!mounted.ok) {
			// CI installs btrfs-progs, and machines of this kind have btrfs and loop devices: there, not mounting is a failure.
			if (process.env.CI) assert.unreachable(`btrfs cannot be mounted in CI: ${mounted.why}`);
			console.log(`  skip: btrfs dockerd: ${mounted.why}`);
			return;
		}
		const m = mounted.m;
		let daemon: Daemon | undefined;
		try {
			const t0 = Date.now();
			daemon = await startDockerd({driver: 'btrfs', dir: m.dir});
			const d = daemon.docker;
			const root = daemon.root;
			const out = path.join(daemon.dir, 'out');
			fs.mkdirSync(out);
			const std = await makeStandardState(daemon);
			const files = makeFilesState(daemon, out);
			// --storage-opt size= on btrfs: a qgroup limit, and btrfs/quotas/<id> holding the size.
			d(['create', '--name', 'quota_c', '--storage-opt', 'size=64M', 'local/busybox:1', 'true']);
			const diffs: Record<string, string[]> = {};
			for (const name of STANDARD) {
				diffs[name] = d(['diff', name])
					.split('\n')
					.filter(l => l !== '');
				d(['export', '-o', path.join(out, `${name}.tar`), name]);
			}
			// What the daemon says about everything now there (the files scenario added images and containers).
			const e: Expected = {...std, ...captureExpected(daemon)};
			assert.ok(
				mountsUnder(root).includes(path.join(root, 'btrfs')),
				'while running, the driver bind-mounts btrfs/ on itself (btrfs.go Init: mount.MakeMount)',
			);
			await daemon.stop();
			const t1 = Date.now();

			// At rest: only our loop mount; the driver's bind mount of btrfs/ is gone.
			assert.equal(mountsUnder(root), [root], 'nothing of the daemon mounted under the data root after stop');
			assert.is(e.info.Driver, 'btrfs');
			assert.ok(
				e.containers.every(c => c.GraphDriver?.Name === 'btrfs' && c.GraphDriver?.Data === null),
				'docker inspect: GraphDriver btrfs, Data null',
			);

			// The model says what the daemon said (ids, names, states, images, tags, sizes, chains).
			const loaded = loadModel(openSource(root));
			const model = loaded.model;
			compareWithDaemon(model, e, 'btrfs');
			const ls = JSON.parse((await ll(['ls', '--json', '--root', root])).stdout) as Array<{
				id: string;
				name: string;
				status: string;
			}>;
			assert.equal(
				ls.map(x => [x.id, x.name, x.status]).sort(),
				e.ps.map(p => [p.ID, p.Names, p.State]).sort(),
				'ls --json = docker ps -a',
			);

			// Chains: btrfs/subvolumes/<mount-id>, <mount-id>-init, then the image layers' cache ids from layerdb;
			// each a btrfs subvolume (inode 256), the init layer a snapshot of the image's top layer, the RW layer of the init layer.
			const layerdb = path.join(root, 'image', 'btrfs', 'layerdb');
			const btrfs = spawnSync('btrfs', ['--version']).error === undefined;
			const uuid = (rel: string) => {
				const show = execFileSync('btrfs', ['subvolume', 'show', path.join(root, rel)], {encoding: 'utf8'});
				return {uuid: /^\s*UUID:\s*(\S+)/m.exec(show)?.[1], parent: /^\s*Parent UUID:\s*(\S+)/m.exec(show)?.[1]};
			};
			for (const c of model.containers) {
				const mountId = fs.readFileSync(path.join(layerdb, 'mounts', c.id, 'mount-id'), 'utf8');
				assert.equal(
					c.chain.slice(0, 2).map(x => x.path),
					[`btrfs/subvolumes/${mountId}`, `btrfs/subvolumes/${mountId}-init`],
					`${c.name}: RW and init`,
				);
				for (const x of c.chain.filter(y => y.role === 'image')) {
					const cache = fs.readFileSync(path.join(layerdb, 'sha256', x.chainId!.slice(7), 'cache-id'), 'utf8');
					assert.is(x.path, `btrfs/subvolumes/${cache}`, `${c.name}: image layer ${x.chainId}`);
				}
				for (const x of c.chain) assert.is(fs.statSync(path.join(root, x.path!)).ino, 256, `${x.path} is a subvolume`);
				if (btrfs && c.name === 'docker_test') {
					const [rw, init, top] = c.chain.map(x => uuid(x.path!));
					assert.is(init!.parent, top!.uuid, 'the init layer is a snapshot of the image top layer');
					assert.is(rw!.parent, init!.uuid, 'the RW layer is a snapshot of the init layer');
				}
			}

			// --storage-opt size=64M: btrfs/quotas/<mount-id> and <mount-id>-init hold "67108864" (no newline), shown as driver records.
			const quota = model.containers.find(c => c.name === 'quota_c')!;
			for (const id of [quota.mountId!, `${quota.mountId}-init`])
				assert.is(fs.readFileSync(path.join(root, 'btrfs', 'quotas', id), 'utf8'), '67108864');
			assert.equal(
				quota.chain.slice(0, 2).map(x => x.driverRecord),
				[
					{path: `btrfs/quotas/${quota.mountId}`, fields: {size: 67108864}},
					{path: `btrfs/quotas/${quota.mountId}-init`, fields: {size: 67108864}},
				],
			);

			// check --deep: no error, no warning, every layer's content verifies against its tar-split.
			const report = await runChecks({model, raw: loaded.raw, source: loaded.source}, {deep: true});
			assert.equal(
				[
					...report.findings
						.filter(f => f.severity !== 'info')
						.map(f => `${f.severity} ${f.code} ${f.subject}: ${f.message}`),
					...report.objects.flatMap(o =>
						o.checks
							.filter(c => c.check === 'layer.content' && c.status !== 'pass')
							.map(c => `unverified ${o.subject}: ${c.note}`),
					),
				],
				[],
				'check --deep on btrfs',
			);

			// diff = docker diff, export = docker export, for every container.
			const all: Record<string, string[] | {error: string}> = {...diffs, ...files.diffs};
			const exports: Record<string, string | {error: string}> = {
				...Object.fromEntries(STANDARD.map(n => [n, path.join(out, `${n}.tar`)])),
				...files.exports,
			};
			assert.is(Object.keys(all).length, STANDARD.length + Object.keys(SCENARIOS).length);
			for (const [name, want] of Object.entries(all)) {
				const dj = await ll(['diff', name, '--json', '--root', root]);
				assert.is(dj.code, 0, `${name}: diff exit code; ${dj.stderr}`);
				const got = JSON.parse(dj.stdout) as {
					changes: Array<{kind: string; path: string}>;
					findings: Array<{code: string}>;
				};
				if (Array.isArray(want)) {
					assert.equal(asDockerLines(got.changes), [...want].sort(), `${name}: diff = docker diff`);
					assert.equal(got.findings, [], `${name}: no findings`);
				} else {
					// c_deep: docker diff itself fails on a path over PATH_MAX; layerlens resolves one directory
					// at a time beneath the root (src/sources/door.ts), so it reads all of it.
					assert.match(want.error, /lstat/, `${name}: docker diff failed as expected`);
					assert.equal(got.findings, [], `${name}: nothing unreadable`);
					assert.ok(
						got.changes.some(c => c.kind === 'A' && c.path === '/dp'),
						`${name}: the deep directory is listed`,
					);
					assert.ok(
						got.changes.some(c => c.kind === 'A' && c.path.length > 4096),
						`${name}: and what is past PATH_MAX`,
					);
				}
				const tar = path.join(out, `${name}.layerlens.tar`);
				const ex = await ll(['export', name, '-o', tar, '--root', root]);
				assert.is(ex.code, 0, `${name}: export exit code; ${ex.stderr}`);
				const theirs = exports[name]!;
				assert.type(theirs, 'string', `${name}: docker export worked`);
				if (name === 'c_deep') {
					const mine = readTar(tar);
					const docker = readTar(theirs as string);
					const common = [...docker.keys()].filter(k => mine.has(k));
					assert.is(common.length, docker.size, `${name}: every member docker exported is there`);
					assert.ok(
						[...mine.keys()].some(k => k.length > 4096),
						`${name}: and what is past PATH_MAX`,
					);
					assert.not.match(ex.stderr, /files\.unreadable/);
					continue;
				}
				assert.equal(
					describe(readTar(tar)),
					describe(readTar(theirs as string)),
					`${name}: export = docker export (paths, types, modes, sizes, link targets, owners, contents)`,
				);
				assert.is(ex.stderr.replace(/^layerlens: wrote .*\n/m, ''), '', `${name}: no findings`);
			}

			// A layer's own entries: a full snapshot compared with its parent, as for vfs.
			const rwOf = (name: string) =>
				fs.readFileSync(path.join(layerdb, 'mounts', files.ids[name]!, 'mount-id'), 'utf8');
			const status = async (name: string) =>
				new Map(
					(
						JSON.parse((await ll(['files', rwOf(name), '--json', '--root', root])).stdout) as {
							entries: Array<{path: string; status: string}>;
						}
					).entries.map(x => [x.path, x.status]),
				);
			const rec = await status('c_recreate');
			assert.is(rec.get('/d1/n'), 'added');
			assert.is(rec.get('/d1/a'), 'deleted', 'the children of a recreated directory are deleted');
			assert.is(rec.get('/opq/o'), 'deleted');
			const del = await status('c_del');
			assert.is(del.get('/keep/k'), 'deleted');
			assert.is(del.get('/bin/ls'), 'deleted');
			assert.is(del.get('/keep'), 'modified');
			assert.is((await ll(['cat', 'c_add', '/mod.txt', '--root', root])).stdout, 'm\nmore\n', 'cat through the view');

			// inspect --explain names real paths on btrfs, and says the RW layer is a full copy.
			const explain = JSON.parse(
				(await ll(['inspect', 'app_exited', '--explain', '--json', '--root', root])).stdout,
			) as {explain: Array<{notes: Array<{label: string; text: string; optional?: boolean}>}>};
			const notes = explain.explain.flatMap(x => x.notes);
			const named = notes
				.filter(n => n.optional !== true && /^(containers|image|btrfs)\//.test(n.label))
				.map(n => n.label);
			assert.ok(
				named.some(p => p.startsWith('btrfs/subvolumes/')),
				'the layer directories are named',
			);
			assert.equal(
				named.filter(p => !fs.existsSync(path.join(root, p))),
				[],
				'every explained path exists',
			);
			assert.match(notes.find(n => n.label.startsWith('btrfs/subvolumes/'))!.text, /complete copy/);
			console.log(`  btrfs: state ${t1 - t0} ms, checks ${Date.now() - t1} ms`);
		} finally {
			try {
				if (daemon !== undefined) await cleanup(daemon);
			} finally {
				unmountAndRemove(m);
			}
			assert.equal(mountsUnder(m.dir), [], 'the btrfs file system is unmounted');
			assert.not.ok(fs.existsSync(m.imageDir), 'its image file is deleted');
		}
	});
}

test.run();
