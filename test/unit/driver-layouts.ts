// Drivers and layouts that cannot be made by the dockerd here, built to the documented layout
// (the reference layout notes §3.2 legacy overlay, §3.8 devicemapper, §3.9 windowsfilter, §6 containerd store;
// moby@v20.10.24 daemon/graphdriver/{overlay/overlay.go,devmapper/deviceset.go,windows/windows.go},
// containerd core/metadata/buckets.go). Whatever cannot be read is one clear finding; the rest is shown.
import fs from 'node:fs';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {loadModel, openSource} from '../../src/load.ts';
import {metaDbPath} from '../../src/read/containerd/meta-db.ts';
import {type DriverInfo, drivers} from '../../src/read/drivers/registry.ts';
import {driverLayerDirs, driverRecordDirs, driverRecordFiles, graphDrivers} from '../../src/sources/driver-dirs.ts';
import {wb, writeBolt} from '../helpers/bbolt-writer.ts';
import {FakeRoot, driverRoot, hex} from '../helpers/fake-root.ts';

const load = (dir: string) => loadModel(openSource(dir)).model;

/** A vfs-shaped root rewritten for another driver: image/<driver>/, config Driver, the driver's directories. */
function rootFor(driver: string, dirs: (cacheId: string, role: 'image' | 'rw' | 'init') => string[]) {
	const {root, layers, ids, cid, mount, image} = driverRoot(driver);
	for (const l of layers) for (const d of dirs(l.cacheId, 'image')) fs.mkdirSync(root.p(d), {recursive: true});
	for (const d of dirs(mount, 'rw')) fs.mkdirSync(root.p(d), {recursive: true});
	for (const d of dirs(`${mount}-init`, 'init')) fs.mkdirSync(root.p(d), {recursive: true});
	return {root, layers, ids, cid, mount, image};
}

test('legacy overlay: image layers in <id>/root, the container and init layers in <id>/upper with lower-id', () => {
	const {root, layers, cid, mount} = rootFor('overlay', (id, role) =>
		role === 'image' ? [`overlay/${id}/root`] : [`overlay/${id}/upper`, `overlay/${id}/work`, `overlay/${id}/merged`],
	);
	try {
		root.write(`overlay/${mount}/lower-id`, layers[1]!.cacheId);
		root.write(`overlay/${mount}-init/lower-id`, layers[1]!.cacheId);
		// As on a real host: each root/ is a full copy (layerdb records bytes).
		for (const l of layers) root.write(`overlay/${l.cacheId}/root/bin/sh`, 'x'.repeat(100));
		const m = load(root.dir);
		assert.equal(m.findings, []);
		const c = m.containers.find(x => x.id === cid)!;
		assert.equal(
			c.chain.map(e => e.path),
			[
				`overlay/${mount}/upper`,
				`overlay/${mount}-init/upper`,
				`overlay/${layers[1]!.cacheId}/root`,
				`overlay/${layers[0]!.cacheId}/root`,
			],
		);
		assert.ok(c.chain.every(e => e.pathExists));
	} finally {
		root.remove();
	}
});

test('devicemapper: chains and metadata paths shown; one finding says the content is in thin devices', () => {
	// At rest there is no devicemapper/mnt/<id> (UnmountDevice removes it): a layer exists when its device record does.
	const {root, cid, mount, layers} = rootFor('devicemapper', () => []);
	try {
		for (const [i, id] of [...layers.map(l => l.cacheId), mount, `${mount}-init`].entries()) {
			root.write(
				`devicemapper/metadata/${id}`,
				JSON.stringify({
					device_id: i + 2,
					size: 10737418240,
					transaction_id: i + 2,
					initialized: false,
					deleted: false,
				}),
			);
		}
		root.write(
			'devicemapper/metadata/deviceset-metadata',
			JSON.stringify({next_device_id: 5, BaseDeviceUUID: 'u', BaseDeviceFilesystem: 'xfs'}),
		);
		const m = load(root.dir);
		assert.equal(
			m.findings.map(f => [f.code, f.subject]),
			[['driver.content-unreadable', 'store:devicemapper']],
		);
		assert.match(m.findings[0]!.message, /thin devices/);
		const c = m.containers.find(x => x.id === cid)!;
		assert.is(c.chain[0]!.path, `devicemapper/mnt/${mount}/rootfs`);
		assert.is(c.chain.length, 4);
	} finally {
		root.remove();
	}
});

test('windowsfilter: detected, its layer ids named, content not read (one finding)', () => {
	const {root, layers} = rootFor('windowsfilter', id => [`windowsfilter/${id}/Files`]);
	try {
		const m = load(root.dir);
		assert.equal(
			m.findings.map(f => f.code),
			['driver.content-unreadable'],
		);
		assert.equal(m.drivers, ['windowsfilter']);
		assert.equal(m.layers.map(l => l.path).sort(), layers.map(l => `windowsfilter/${l.cacheId}`).sort());
	} finally {
		root.remove();
	}
});

test('containerd image store: read from meta.db (namespace moby) beside a graph-driver store; what is missing is named, the rest is shown', () => {
	const root = new FakeRoot('overlay2');
	try {
		const layers = [{diffId: `sha256:${hex('d0')}`, cacheId: hex('c0')}];
		const image = root.addImage({layers, tags: ['old:1']});
		root.addContainer({id: hex('graph-c'), name: 'old', image, mountId: hex('gm')}, layers[0]!.diffId);
		// A container of the containerd store: Driver is the snapshotter.
		root.addContainer(
			{id: hex('ctrd-c'), name: 'new', image: `sha256:${hex('manifest')}`, mountId: hex('unused')},
			undefined,
		);
		const cfg = JSON.parse(fs.readFileSync(root.p(`containers/${hex('ctrd-c')}/config.v2.json`), 'utf8'));
		cfg.Driver = 'overlayfs';
		fs.writeFileSync(root.p(`containers/${hex('ctrd-c')}/config.v2.json`), JSON.stringify(cfg));
		fs.rmSync(root.p(`image/overlay2/layerdb/mounts/${hex('ctrd-c')}`), {recursive: true});
		// Without meta.db: the data is outside the root (a system containerd's /var/lib/containerd).
		let m = load(root.dir);
		let f = m.findings.filter(x => x.code === 'layout.containerd-store');
		assert.is(f.length, 1);
		assert.match(f[0]!.message, /\/var\/lib\/containerd/);
		assert.ok(m.findings.some(x => x.code === 'container.store-missing' && x.subject === `container:${hex('ctrd-c')}`));
		// meta.db as containerd writes it (core/metadata/buckets.go): v1/moby/{images,snapshots/overlayfs,...};
		// no content blob and no snapshotter metadata.db: each is one finding, the rest is read.
		const t = Buffer.from([1, 0, 0, 0, 14, 226, 157, 201, 165, 12, 249, 101, 9, 255, 255]);
		const db = writeBolt(
			wb({
				v1: wb({
					version: Buffer.from([6]),
					moby: wb({
						images: wb({
							'docker.io/library/busybox:latest': wb({
								createdat: t,
								updatedat: t,
								target: wb({
									digest: `sha256:${hex('manifest')}`,
									mediatype: 'application/vnd.oci.image.index.v1+json',
									size: Buffer.from([0x80, 0x10]),
								}),
							}),
						}),
						snapshots: wb({
							overlayfs: wb({
								[`sha256:${hex('chain')}`]: wb({name: 'moby/1/x', createdat: t}),
								[hex('ctrd-c')]: wb({name: 'moby/3/y', parent: `${hex('ctrd-c')}-init`}),
							}),
						}),
						containers: wb({}),
					}),
				}),
			}),
		);
		root.write(metaDbPath, db);
		m = load(root.dir);
		assert.equal(
			m.findings.filter(x => x.code === 'layout.containerd-store'),
			[],
		);
		assert.equal(m.drivers, ['overlay2', 'overlayfs']);
		const img = m.images.find(i => i.driver === 'overlayfs')!;
		assert.equal(
			[img.id, img.tags, img.lastUpdated],
			[`sha256:${hex('manifest')}`, ['busybox:latest'], '2026-11-29T07:22:13.217670921Z'],
		);
		assert.equal(
			m.findings.filter(x => x.subject === `image:${img.id}`).map(x => x.code),
			['content.blob-missing'],
		);
		f = m.findings.filter(x => x.code === 'file.missing' && x.subject === 'store:overlayfs');
		assert.match(f[0]!.message, /directories of all 2 snapshots are unknown/);
		// The rest is shown: the graph-driver container with its chain, both images, the containerd container.
		assert.is(m.containers.find(c => c.name === 'old')!.chain.length, 3);
		const ctr = m.containers.find(c => c.name === 'new')!;
		assert.equal([ctr.driver, ctr.imageTags], ['overlayfs', ['busybox:latest']]);
		assert.is(m.images.length, 2);
	} finally {
		root.remove();
	}
});

test("the drivers' table: the sources' own lists (sources/driver-dirs.ts) say what it says; every driver's files are read or it says why not", () => {
	const entries: Array<[string, DriverInfo]> = Object.entries(drivers);
	const graph = entries.filter(([, d]) => d.containerd !== true).map(([n]) => n);
	const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();
	assert.equal(sorted(graphDrivers), sorted(graph));
	assert.is(graphDrivers.length, graph.length);
	assert.equal(sorted(driverRecordDirs), sorted(entries.flatMap(([, d]) => d.recordDirs ?? [])));
	assert.equal(sorted(driverRecordFiles), sorted(entries.flatMap(([, d]) => d.recordFiles ?? [])));
	for (const dir of driverLayerDirs) assert.ok(graph.includes(dir.split('/')[0]!), dir);
	for (const [name, d] of entries) {
		assert.ok((d.whiteouts === undefined) !== (d.filesUnread === undefined), `${name}: whiteouts or filesUnread`);
		if (d.contentSubdirs !== undefined)
			assert.ok(
				d.contentSubdirs.some(sub => d.layerPath('x') === `${d.layersDir}/x/${sub}`),
				`${name}: layerPath is one of its contentSubdirs`,
			);
		if (d.unionMount !== undefined) assert.ok(d.unionMount.includes('<id>'), `${name}: unionMount names <id>`);
	}
});

test.run();
