import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {diskUsage, holds} from '../../src/checks/size.ts';
import {openSource} from '../../src/load.ts';
import {hexOf, basicC8dRoot, snapshotterDir} from '../helpers/c8d-root.ts';
import {checkBroken, checkDir, diskLayers, diskMounts, findingsOf, real} from '../helpers/check-roots.ts';

// Orphans and leftovers: each code produced from a copy of a real state broken on purpose;
// each finding says what it is, why it matters and how much it holds.

const p = (root: string, rel: string): string => path.join(root, rel);
const orphanId = `${'f'.repeat(60)}0000`;

/** Removes a container the way an interrupted `docker rm` can leave it: only the listed parts. */
function removeContainer(
	root: string,
	driver: string,
	m: {containerId: string},
	parts: Array<'config' | 'mount'>,
): void {
	if (parts.includes('config')) fs.rmSync(p(root, `containers/${m.containerId}`), {recursive: true});
	if (parts.includes('mount')) fs.rmSync(p(root, `image/${driver}/layerdb/mounts/${m.containerId}`), {recursive: true});
}

test('orphan.driver-dir: a layer directory nothing refers to, with its size (overlay2 fixture, aufs fixture)', async () => {
	const r = await checkBroken('overlay2', root => {
		fs.mkdirSync(p(root, `overlay2/${orphanId}/diff`), {recursive: true});
		fs.writeFileSync(p(root, `overlay2/${orphanId}/diff/data`), Buffer.alloc(1000, 1));
		fs.writeFileSync(p(root, `overlay2/${orphanId}/link`), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ');
	});
	if (r === null) return;
	const f = findingsOf(r, 'orphan.driver-dir');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'warning');
	assert.is(f[0]!.subject, `dir:overlay2/${orphanId}`);
	assert.is(f[0]!.path, `overlay2/${orphanId}`);
	assert.match(f[0]!.message, /no layer, container or init layer refers to/);
	assert.match(f[0]!.message, /holds 1\.03kB \(1026 bytes\)$/);
	// Listed under the store's check.
	const store = r.objects.find(o => o.subject === 'store:overlay2')!;
	assert.is(store.checks.find(c => c.check === 'store.driver-dirs')?.status, 'fail');
	const aufs = await checkBroken('aufs', root => {
		fs.mkdirSync(p(root, `aufs/diff/${orphanId}`));
		fs.writeFileSync(p(root, `aufs/diff/${orphanId}/x`), 'hello');
		fs.writeFileSync(p(root, `aufs/layers/${orphanId}`), '');
	});
	const a = findingsOf(aufs!, 'orphan.driver-dir');
	assert.is(a.length, 1);
	assert.match(
		a[0]!.message,
		/^aufs\/diff\/f+0000 \(also aufs\/layers\/f+0000\) is a layer directory of the aufs driver/,
	);
	assert.match(a[0]!.message, /holds 5B$/);
});

test('orphan.init-dir: a container removed but its -init directory left (overlay2 fixture); its l/ links become orphan.link', async () => {
	let mount = {containerId: '', mountId: '', initId: ''};
	const r = await checkBroken('overlay2', root => {
		mount = diskMounts(root, 'overlay2')[0]!;
		removeContainer(root, 'overlay2', mount, ['config', 'mount']);
		fs.rmSync(p(root, `overlay2/${mount.mountId}`), {recursive: true});
	});
	if (r === null) return;
	const f = findingsOf(r, 'orphan.init-dir');
	assert.is(f.length, 1);
	assert.is(f[0]!.path, `overlay2/${mount.initId}`);
	assert.match(f[0]!.message, /whose container RW layer [0-9a-f]{12}… is gone/);
	assert.match(f[0]!.message, /holds /);
	const links = findingsOf(r, 'orphan.link');
	assert.is(links.length, 1, "the RW layer's l/ symlink is left dangling");
	assert.is(links[0]!.severity, 'info');
	assert.match(links[0]!.path!, /^overlay2\/l\/[A-Z0-9]{26}$/);
});

test('orphan.mount: a container directory removed, its layerdb mount left (sample)', async () => {
	let mount = {containerId: '', mountId: '', initId: ''};
	const r = await checkBroken('sample', root => {
		mount = diskMounts(root, 'overlay2')[0]!;
		removeContainer(root, 'overlay2', mount, ['config']);
	});
	if (r === null) return;
	const f = findingsOf(r, 'orphan.mount');
	assert.is(f.length, 1);
	assert.is(f[0]!.subject, `mount:${mount.containerId}`);
	assert.is(f[0]!.path, `image/overlay2/layerdb/mounts/${mount.containerId}`);
	assert.ok(f[0]!.message.includes(`overlay2/${mount.mountId}, overlay2/${mount.initId}`));
	assert.match(f[0]!.message, /they hold \d/);
	// Its RW and init directories are the mount's, not orphan directories.
	assert.equal(findingsOf(r, 'orphan.driver-dir'), []);
});

test('cache.buildkit-snapshot: a BuildKit id directory in overlay2/ is build cache on a root with buildkit/, an orphan without it', async () => {
	const bk = 'k3x9q2m7w1p5z8r4t6y0u2i4o';
	const plant = (root: string) => {
		fs.mkdirSync(p(root, `overlay2/${bk}/diff`), {recursive: true});
		fs.writeFileSync(p(root, `overlay2/${bk}/diff/data`), Buffer.alloc(500, 1));
	};
	const withCache = await checkBroken('overlay2', root => {
		plant(root);
		fs.mkdirSync(p(root, 'buildkit'));
	});
	if (withCache === null) return;
	const f = findingsOf(withCache, 'cache.buildkit-snapshot');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'info');
	assert.is(f[0]!.path, `overlay2/${bk}`);
	assert.match(f[0]!.message, /docker builder prune/);
	assert.equal(findingsOf(withCache, 'orphan.driver-dir'), []);
	const store = withCache.objects.find(o => o.subject === 'store:overlay2')!;
	assert.match(
		store.checks.find(c => c.check === 'store.driver-dirs')?.note ?? '',
		/0 unreferenced, 1 BuildKit build cache/,
	);
	// Without buildkit/ nothing can have made it: an orphan, as before.
	const without = await checkBroken('overlay2', plant);
	assert.equal(findingsOf(without!, 'cache.buildkit-snapshot'), []);
	assert.equal(
		findingsOf(without!, 'orphan.driver-dir').map(x => x.path),
		[`overlay2/${bk}`],
	);
});

test('orphan.container: a container directory without config.v2.json (aufs fixture)', async () => {
	let id = '';
	const r = await checkBroken('aufs', root => {
		id = diskMounts(root, 'aufs')[0]!.containerId;
		fs.rmSync(p(root, `containers/${id}/config.v2.json`));
	});
	if (r === null) return;
	const f = findingsOf(r, 'orphan.container');
	assert.is(f.length, 1);
	assert.is(f[0]!.subject, `container:${id}`);
	assert.match(f[0]!.message, /has no config\.v2\.json .* it holds \d/);
	const obj = r.objects.find(o => o.subject === `container:${id}`)!;
	assert.is(obj.checks.find(c => c.check === 'container.config')?.status, 'fail');
	// The reader's file.missing stays, under 'read'.
	assert.ok(obj.checks.find(c => c.check === 'read')?.findings.some(x => x.code === 'file.missing'));
});

test('orphan.layer: the image and its containers removed, the layer left in layerdb (overlay2 fixture)', async () => {
	const r = await checkBroken('overlay2', root => {
		for (const f of fs.readdirSync(p(root, 'image/overlay2/imagedb/content/sha256')))
			fs.rmSync(p(root, `image/overlay2/imagedb/content/sha256/${f}`));
		fs.writeFileSync(p(root, 'image/overlay2/repositories.json'), '{"Repositories":{}}');
		for (const m of diskMounts(root, 'overlay2')) removeContainer(root, 'overlay2', m, ['config', 'mount']);
	});
	if (r === null) return;
	const f = findingsOf(r, 'orphan.layer');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'warning');
	assert.match(f[0]!.message, /no image and no container uses it/);
	assert.match(f[0]!.message, /holds [\d.]+MB \(\d+ bytes\) \(its layerdb size\)$/);
	// The containers' directories are orphans now too.
	assert.is(findingsOf(r, 'orphan.driver-dir').length, 2 * 5);
});

test('leftover.removing and layer.removing: an interrupted layer removal (aufs fixture)', async () => {
	const r = await checkBroken('aufs', root => {
		for (const f of fs.readdirSync(p(root, 'image/aufs/imagedb/content/sha256')))
			fs.rmSync(p(root, `image/aufs/imagedb/content/sha256/${f}`));
		fs.writeFileSync(p(root, 'image/aufs/repositories.json'), '{"Repositories":{}}');
		const mounts = diskMounts(root, 'aufs');
		for (const m of mounts) removeContainer(root, 'aufs', m, ['config', 'mount']);
		// aufs renames a directory to <id>-removing before deleting it.
		fs.renameSync(p(root, `aufs/diff/${mounts[0]!.mountId}`), p(root, `aufs/diff/${mounts[0]!.mountId}-removing`));
		const layer = diskLayers(root, 'aufs')[0]!;
		fs.renameSync(layer.dir, `${layer.dir}-${'a'.repeat(64)}-removing`);
	});
	if (r === null) return;
	const rm = findingsOf(r, 'leftover.removing');
	assert.is(rm.length, 1);
	assert.match(rm[0]!.message, /removal was interrupted/);
	assert.match(rm[0]!.path!, /^aufs\/diff\/[0-9a-f]{64}-removing$/);
	assert.is(findingsOf(r, 'layer.removing').length, 1);
	const store = r.objects.find(o => o.subject === 'store:aufs')!;
	assert.ok(store.checks.find(c => c.check === 'store.layerdb')?.findings.some(x => x.code === 'layer.removing'));
	assert.ok(findingsOf(r, 'orphan.driver-dir').some(x => /its layerdb entry is being removed/.test(x.message)));
	assert.is(findingsOf(r, 'orphan.init-dir').length, 1);
});

test('leftover.tmp: an uncommitted layer write in layerdb/tmp (sample)', async () => {
	const r = await checkBroken('sample', root => {
		const dir = p(root, 'image/overlay2/layerdb/tmp/write-set-123456789');
		fs.mkdirSync(dir, {recursive: true});
		fs.writeFileSync(path.join(dir, 'diff'), `sha256:${'a'.repeat(64)}`);
	});
	if (r === null) return;
	const f = findingsOf(r, 'leftover.tmp');
	assert.is(f.length, 1);
	assert.is(f[0]!.path, 'image/overlay2/layerdb/tmp/write-set-123456789');
	assert.match(f[0]!.message, /never committed.*holds 71B$/);
});

test("leftover.daemon-tmp: files in the daemon's tmp/ (overlay2 fixture)", async () => {
	const r = await checkBroken('overlay2', root => {
		fs.mkdirSync(p(root, 'tmp/docker-export-1'), {recursive: true});
		fs.writeFileSync(p(root, 'tmp/docker-export-1/layer.tar'), Buffer.alloc(2048));
	});
	if (r === null) return;
	const f = findingsOf(r, 'leftover.daemon-tmp');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'info');
	assert.is(f[0]!.subject, 'root');
	assert.match(f[0]!.message, /holds 2\.05kB \(2048 bytes\)$/);
});

test('image.dangling: an image whose tags were removed (overlay2 fixture); the clean sample has one', async () => {
	const r = await checkBroken('overlay2', root => {
		fs.writeFileSync(p(root, 'image/overlay2/repositories.json'), '{"Repositories":{}}');
	});
	if (r === null) return;
	const f = findingsOf(r, 'image.dangling');
	assert.is(f.length, 1);
	assert.is(f[0]!.severity, 'info');
	assert.match(f[0]!.message, /5 containers still use it/);
	const sample = await checkBroken('sample', () => {});
	assert.is(findingsOf(sample!, 'image.dangling').length, 1);
});

test('sizes: walked through the Source, hard links once, and "at least" when the walk is capped', () => {
	const root = real('sample');
	if (root === null) return;
	const source = openSource(root);
	const full = diskUsage(source, 'overlay2');
	assert.ok(full.complete && full.bytes > 1_000_000);
	const capped = diskUsage(source, 'overlay2', 5);
	assert.is(capped.complete, false);
	assert.match(holds(capped), /^holds at least /);
	assert.equal(diskUsage(source, 'nope'), {bytes: 0, entries: 0, complete: true, exists: false});
});

test('orphan.snapshot-dir, orphan.snapshot, leftover.snapshot: what a containerd snapshotter holds that nothing uses (containerd store built in code)', async () => {
	const {r, base} = basicC8dRoot();
	try {
		// A RW and an init snapshot whose container is gone; a record meta.db no longer has; a directory no record names.
		const ghost = hexOf('ghost');
		r.snapshot('overlayfs', {key: `${ghost}-init`, parent: base.chain[1]!, id: 7});
		r.snapshot('overlayfs', {key: ghost, parent: `${ghost}-init`, id: 8, kind: 2});
		r.extraBackend.overlayfs = [{key: 'moby/90/extract-1-sha256:abc', id: 90, kind: 2}];
		fs.mkdirSync(r.p(`${snapshotterDir('overlayfs')}/snapshots/90/fs`), {recursive: true});
		fs.mkdirSync(r.p(`${snapshotterDir('overlayfs')}/snapshots/77/fs`), {recursive: true});
		fs.writeFileSync(r.p(`${snapshotterDir('overlayfs')}/snapshots/77/fs/data`), Buffer.alloc(1000, 1));
		r.save();
		const rep = await checkDir(r.dir);
		const dirs = findingsOf(rep, 'orphan.snapshot-dir');
		assert.equal(
			dirs.map(f => [f.severity, f.subject, f.path]),
			[['warning', `dir:${snapshotterDir('overlayfs')}/snapshots/77`, `${snapshotterDir('overlayfs')}/snapshots/77`]],
		);
		assert.match(
			dirs[0]!.message,
			/no record of the overlayfs snapshotter's metadata\.db names .* holds 1kB \(1000 bytes\)$/,
		);
		const snaps = findingsOf(rep, 'orphan.snapshot');
		assert.equal(snaps.map(f => [f.severity, f.subject]).sort(), [
			['warning', `snapshot:${ghost}`],
			['warning', `snapshot:${ghost}-init`],
		]);
		assert.match(
			snaps.find(f => f.subject === `snapshot:${ghost}`)!.message,
			/RW snapshot of container .* containers\/ directory is gone/,
		);
		const left = findingsOf(rep, 'leftover.snapshot');
		assert.equal(
			left.map(f => [f.severity, f.subject]),
			[['info', 'snapshot:moby/90/extract-1-sha256:abc']],
		);
		assert.match(left[0]!.message, /garbage collector removes it/);
		const store = rep.objects.find(o => o.subject === 'store:overlayfs')!;
		assert.equal(
			store.checks
				.filter(c => c.status === 'fail')
				.map(c => c.check)
				.sort(),
			['store.snapshot-dirs', 'store.snapshots'],
		);
		// The graph-driver orphan checks do not apply to a snapshotter.
		assert.not.ok(store.checks.some(c => ['store.driver-dirs', 'store.mounts', 'store.layerdb'].includes(c.check)));
	} finally {
		r.remove();
	}
});

test.run();
