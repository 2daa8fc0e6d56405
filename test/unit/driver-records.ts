// What the storage drivers whose layer content cannot be read offline record about their layers and
// themselves, built in code to the documented layouts, clean and hostile:
// - devicemapper: the reference layout notes §3.8; moby@v20.10.24 daemon/graphdriver/devmapper/deviceset.go
//   (devInfo, saveMetadata, deviceSetMetaFile, transactionMetaFile, ensureImage) and driver.go
//   (Get makes mnt/<id>, UnmountDevice removes it: at rest there is no mnt/<id>);
// - zfs: §3.7; daemon/graphdriver/zfs/zfs.go (zfsPath = fsname + "/" + id; Put removes zfs/graph/<id>);
// - windowsfilter: §3.9; daemon/graphdriver/windows/windows.go (setLayerChain writes layerchain.json,
//   parents nearest first, the empty -init layer left out);
// - btrfs quotas: §3.6; daemon/graphdriver/btrfs/btrfs.go (Create writes quotas/<id> = fmt.Sprint(size)).
// Each unreadable record is one finding naming the file; the rest of the host is still shown.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {runChecks} from '../../src/checks/index.ts';
import {loadModel, openRoot, openSource} from '../../src/load.ts';
import type {Model} from '../../src/model/types.ts';
import {detailLines} from '../../src/ui/detail.ts';
import {lineText} from '../../src/ui/text.ts';
import {buildTree} from '../../src/ui/tree.ts';
import {modelJson} from '../../src/view/json.ts';
import {type FakeRoot, driverRoot, hex} from '../helpers/fake-root.ts';
import {ll} from '../helpers/files-run.ts';

const load = (dir: string) => loadModel(openSource(dir));

/**
 * A root of `driver` with a two-layer image and one container: the vfs fake root rewritten for it
 * (image/<driver>/, config Driver), with the driver's own files written by `files`.
 */
function rootFor(driver: string, files: (root: FakeRoot, ids: {layers: string[]; mount: string}) => void) {
	const {root, layers, ids, cid, mount, image} = driverRoot(driver);
	files(root, {layers: layers.map(l => l.cacheId), mount});
	return {root, layers: layers.map(l => l.cacheId), ids, cid, mount, image};
}

const codes = (m: Model) =>
	m.findings
		.map(
			f =>
				`${f.severity} ${f.code} ${f.subject.replace(/^(container|layer):(sha256:)?([0-9a-f]{12})[0-9a-f]*$/, '$1:$3')}`,
		)
		.sort();

/** devicemapper/metadata/<id> as deviceset.go saveMetadata writes it (json.Marshal(devInfo), no newline). */
const device = (id: number, transaction: number, extra: Record<string, unknown> = {}) =>
	JSON.stringify({
		device_id: id,
		size: 10737418240,
		transaction_id: transaction,
		initialized: false,
		deleted: false,
		...extra,
	});

function devicemapperRoot(edit?: (root: FakeRoot, ids: {layers: string[]; mount: string}) => void) {
	return rootFor('devicemapper', (root, ids) => {
		root.write(
			'devicemapper/metadata/base',
			JSON.stringify({device_id: 1, size: 10737418240, transaction_id: 1, initialized: true, deleted: false}),
		);
		ids.layers.forEach((id, i) => root.write(`devicemapper/metadata/${id}`, device(2 + i, 2 + i)));
		root.write(`devicemapper/metadata/${ids.mount}-init`, device(4, 4));
		root.write(`devicemapper/metadata/${ids.mount}`, device(5, 5));
		root.write(
			'devicemapper/metadata/deviceset-metadata',
			JSON.stringify({
				next_device_id: 5,
				BaseDeviceUUID: '4a6ee6c1-0f3a-4d4b-9e0b-2c1b2c0f1a11',
				BaseDeviceFilesystem: 'xfs',
			}),
		);
		root.write(
			'devicemapper/metadata/transaction-metadata',
			JSON.stringify({open_transaction_id: 5, device_hash: ids.mount, device_id: 5}),
		);
		// loop-lvm pool files (ensureImage: sparse, truncated to the pool size); small here.
		fs.mkdirSync(root.p('devicemapper/devicemapper'), {recursive: true});
		fs.writeFileSync(root.p('devicemapper/devicemapper/data'), '');
		fs.truncateSync(root.p('devicemapper/devicemapper/data'), 64 << 20);
		fs.writeFileSync(root.p('devicemapper/devicemapper/metadata'), '');
		fs.truncateSync(root.p('devicemapper/devicemapper/metadata'), 2 << 20);
		// At rest there is no devicemapper/mnt/<id> (UnmountDevice removes the mount point).
		fs.mkdirSync(root.p('devicemapper/mnt'), {recursive: true});
		edit?.(root, ids);
	});
}

test('devicemapper at rest: device records per layer and per container layer, the device set and pool files shown; nothing reported missing', async () => {
	const {root, layers, cid, mount, ids} = devicemapperRoot();
	try {
		const {model: m, raw, source} = load(root.dir);
		assert.equal(
			codes(m),
			['info driver.content-unreadable store:devicemapper'],
			'a clean root: only the content note',
		);
		assert.match(m.findings[0]!.message, /thin devices/);
		const c = m.containers.find(x => x.id === cid)!;
		assert.equal(
			c.chain.map(e => e.path),
			[
				`devicemapper/mnt/${mount}/rootfs`,
				`devicemapper/mnt/${mount}-init/rootfs`,
				`devicemapper/mnt/${layers[1]}/rootfs`,
				`devicemapper/mnt/${layers[0]}/rootfs`,
			],
		);
		assert.ok(
			c.chain.every(e => e.pathExists),
			'a device record is what says the layer exists',
		);
		assert.equal(
			c.chain.map(e => e.driverRecord?.fields.device_id),
			[5, 4, 3, 2],
		);
		assert.equal(c.chain[0]!.driverRecord, {
			path: `devicemapper/metadata/${mount}`,
			fields: {device_id: 5, size: 10737418240, transaction_id: 5, initialized: false, deleted: false},
		});
		const top = m.layers.find(l => l.chainId === ids[1])!;
		assert.equal(top.driverRecord?.path, `devicemapper/metadata/${layers[1]}`);
		const host = Object.fromEntries((m.driverRecords ?? []).map(r => [r.what, r]));
		assert.equal(Object.keys(host).sort(), [
			'base device',
			'device set',
			'last transaction',
			'pool data file',
			'pool metadata file',
		]);
		assert.equal(host['device set']!.fields, {
			next_device_id: 5,
			BaseDeviceUUID: '4a6ee6c1-0f3a-4d4b-9e0b-2c1b2c0f1a11',
			BaseDeviceFilesystem: 'xfs',
		});
		assert.match(host['device set']!.note ?? '', /docker-<major>:<minor>-<inode>-pool/);
		assert.equal(host['last transaction']!.fields, {open_transaction_id: 5, device_hash: mount, device_id: 5});
		assert.equal(host['pool data file']!.fields, {size: 64 << 20});
		assert.equal(host['pool metadata file']!.fields, {size: 2 << 20});
		// JSON: the model's layers, chains and host records; inspect of a layer.
		const j = JSON.parse(JSON.stringify(modelJson(m)));
		assert.is(j.driverRecords.length, 5);
		assert.is(j.layers.find((l: {chainId: string}) => l.chainId === ids[1]).driverRecord.fields.device_id, 3);
		assert.is(j.containers[0].chain[1].driverRecord.fields.device_id, 4);
		const inspect = await ll(['inspect', ids[1]!, '--root', root.dir]);
		assert.is(inspect.code, 0, inspect.stderr);
		assert.equal(JSON.parse(inspect.stdout).driverRecord, {
			path: `devicemapper/metadata/${layers[1]}`,
			fields: {device_id: 3, size: 10737418240, transaction_id: 3, initialized: false, deleted: false},
		});
		const ic = JSON.parse((await ll(['inspect', 'web', '--root', root.dir])).stdout);
		assert.is(ic.chain[0].driverRecord.path, `devicemapper/metadata/${mount}`);
		// Text: the host records under the header; the UI's layer details list the record.
		const tree = await ll(['tree', '--root', root.dir]);
		assert.match(
			tree.stdout,
			/devicemapper device set {2}devicemapper\/metadata\/deviceset-metadata {2}next_device_id 5, BaseDeviceUUID 4a6ee6c1-0f3a-4d4b-9e0b-2c1b2c0f1a11, BaseDeviceFilesystem xfs/,
		);
		assert.match(tree.stdout, /devicemapper pool data file {2}devicemapper\/devicemapper\/data {2}size 67108864/);
		const ui = buildTree(m);
		const rw = ui.children(ui.node(`c:${cid}`)!)[0]!;
		const text = detailLines(ui, rw, () => null)
			.map(lineText)
			.join('\n');
		assert.match(text, /driver record +devicemapper\/metadata\/[0-9a-f]{64}\n +device_id +5\n +size +10737418240/);
		// check: no error or warning, and no device record taken for an orphan (base, deviceset-metadata, ...).
		const report = await runChecks({model: m, raw, source}, {deep: false});
		assert.equal(
			report.findings.filter(f => f.severity !== 'info').map(f => `${f.code} ${f.path}`),
			[],
		);
	} finally {
		root.remove();
	}
});

test('devicemapper, hostile records: wrong types, huge numbers, bad JSON, a deleted device, a missing record; each one finding, the rest shown', async () => {
	const {root, layers, cid, mount, ids} = devicemapperRoot((r, x) => {
		// 2^64 - 1 is a valid uint64 to Go but not a safe JSON number here; 0x1000000 is above the 24-bit device ids.
		r.write(
			`devicemapper/metadata/${x.layers[0]}`,
			'{"device_id":16777216,"size":18446744073709551615,"transaction_id":-1,"initialized":"yes","deleted":false}',
		);
		r.write(`devicemapper/metadata/${x.layers[1]}`, '{"device_id":3,');
		r.write(`devicemapper/metadata/${x.mount}`, device(5, 5, {deleted: true}));
		fs.rmSync(r.p(`devicemapper/metadata/${x.mount}-init`));
		r.write(
			'devicemapper/metadata/deviceset-metadata',
			'{"next_device_id":1e400,"BaseDeviceUUID":{"a":1},"BaseDeviceFilesystem":"xfs\\u001b[2J"}',
		);
		r.write('devicemapper/metadata/transaction-metadata', '[1,2]');
		r.write('devicemapper/metadata/.tmp123456', 'partial write');
		r.write('devicemapper/json.migrated', '{}');
		r.write(`devicemapper/metadata/${hex('orphan')}`, 'x'.repeat(70 * 1024));
	});
	try {
		const {model: m, raw, source} = load(root.dir);
		const short = (s: string) => s.slice(0, 12);
		// Severities follow what the daemon does with each file: a device record or device set it cannot
		// unmarshal is an error (the device, or the driver, is unusable); transaction-metadata's errors it ignores.
		assert.equal(
			codes(m),
			[
				`error container.layer-dir-missing container:${short(cid)}`,
				'error file.too-large store:devicemapper',
				'info driver.content-unreadable store:devicemapper',
				`warning driver.device-deleted container:${short(cid)}`,
				`error driver.record-invalid layer:${short(ids[0]!.slice(7))}`,
				'error driver.record-invalid store:devicemapper',
				`error json.invalid layer:${short(ids[1]!.slice(7))}`,
				'warning json.shape store:devicemapper',
			].sort(),
		);
		const f = (code: string) => m.findings.find(x => x.code === code)!;
		assert.match(
			f('container.layer-dir-missing').message,
			new RegExp(`init layer device record devicemapper/metadata/${mount}-init is missing`),
		);
		assert.is(f('container.layer-dir-missing').path, `devicemapper/metadata/${mount}-init`);
		const bad = m.findings.find(x => x.code === 'driver.record-invalid' && x.subject.startsWith('layer:'))!;
		assert.match(bad.message, /device_id 16777216 is above 16777215/);
		assert.match(
			bad.message,
			/size 18446744073709551615 is beyond 2\^53/,
			'a valid uint64 to Go, not held exactly here, quoted exactly',
		);
		assert.match(bad.message, /transaction_id -1 is not a whole number from 0 to 2\^64-1/);
		assert.match(bad.message, /initialized is a string \("yes"\), not true or false/);
		assert.match(bad.message, /the daemon cannot load this device record/);
		assert.match(
			m.findings.find(x => x.code === 'driver.record-invalid' && x.subject === 'store:devicemapper')!.message,
			/next_device_id 1e400 is not a whole number .*BaseDeviceUUID is an object, not a string.*cannot start the devicemapper driver/,
		);
		assert.match(f('driver.device-deleted').message, /deferred deletion/);
		// The rest is shown: the container, its chain, the valid fields.
		const c = m.containers.find(x => x.id === cid)!;
		assert.is(c.chain.length, 4);
		assert.equal(c.chain[0]!.driverRecord?.fields.deleted, true);
		assert.is(c.chain[1]!.pathExists, false);
		assert.equal(m.layers.find(l => l.cacheId === layers[0])!.driverRecord?.fields, {
			device_id: null,
			size: null,
			transaction_id: null,
			initialized: null,
			deleted: false,
		});
		assert.is(m.layers.find(l => l.cacheId === layers[1])!.driverRecord, undefined, 'not JSON: no record, one finding');
		const set = m.driverRecords!.find(r => r.what === 'device set')!;
		assert.equal(set.fields, {next_device_id: null, BaseDeviceUUID: null, BaseDeviceFilesystem: 'xfs\u001b[2J'});
		assert.not.ok(
			m.driverRecords!.some(r => r.what === 'last transaction'),
			'not an object: no record',
		);
		// Text escapes what the evidence holds.
		const tree = await ll(['tree', '--root', root.dir]);
		assert.match(tree.stdout, /BaseDeviceFilesystem xfs\\x1b\[2J/);
		assert.not.match(tree.stdout, /\u001b\[2J/);
		// check: the unreferenced 70 KiB record is an orphan device record; .tmp files and base are not.
		const report = await runChecks({model: m, raw, source}, {deep: false});
		const orphans = report.findings.filter(x => x.code === 'orphan.driver-dir');
		assert.equal(
			orphans.map(x => x.path),
			[`devicemapper/metadata/${hex('orphan')}`],
		);
		assert.match(orphans[0]!.message, /layer device record of the devicemapper driver/);
	} finally {
		root.remove();
	}
});

test('devicemapper without metadata/: every layer names its missing device record; the pool files and containers are still shown', () => {
	const {root, cid} = devicemapperRoot(r => fs.rmSync(r.p('devicemapper/metadata'), {recursive: true}));
	try {
		const {model: m} = load(root.dir);
		const missing = m.findings.filter(f => f.code === 'layer.dir-missing' || f.code === 'container.layer-dir-missing');
		assert.is(missing.length, 4, '2 image layers, the RW and the init layer');
		assert.ok(
			missing.every(f =>
				/device record devicemapper\/metadata\/[0-9a-f]{64}(-init)? (in the driver )?is missing/.test(f.message),
			),
		);
		assert.ok(m.containers.some(c => c.id === cid));
		assert.equal(
			m.driverRecords!.filter(r => r.what.startsWith('pool')).map(r => r.fields.size),
			[64 << 20, 2 << 20],
		);
		assert.match(m.driverRecords!.find(r => r.what === 'device set')!.note ?? '', /^absent/);
	} finally {
		root.remove();
	}
});

test('devicemapper from an archive: the same model as from the directory (device records are kept in memory)', async () => {
	const {root} = devicemapperRoot(r => {
		fs.rmSync(r.p('devicemapper/devicemapper'), {recursive: true});
	});
	const tgz = path.join(path.dirname(root.dir), `${path.basename(root.dir)}.tar.gz`);
	try {
		execFileSync('tar', ['-C', root.dir, '-czf', tgz, '.']);
		const opened = await openRoot(tgz);
		assert.ok(opened.ok);
		if (!opened.ok) return;
		const a = modelJson(loadModel(opened.source).model);
		const d = modelJson(load(root.dir).model);
		assert.equal({...a, root: ''}, {...d, root: ''});
		assert.ok(a.layers.every(l => l.driverRecord !== undefined));
	} finally {
		root.remove();
		fs.rmSync(tgz, {force: true});
	}
});

test('zfs at rest: no mount points under zfs/graph, nothing reported missing; each layer names its dataset <fsname>/<id> and why fsname is unknown', async () => {
	const {root, layers, cid, mount} = rootFor('zfs', r => fs.mkdirSync(r.p('zfs/graph'), {recursive: true}));
	try {
		const {model: m, raw, source} = load(root.dir);
		assert.equal(codes(m), ['info driver.content-unreadable store:zfs']);
		assert.match(m.findings[0]!.message, /<fsname>\/<id>.*not recorded in the root/);
		const c = m.containers.find(x => x.id === cid)!;
		assert.equal(
			c.chain.map(e => e.path),
			[`zfs/graph/${mount}`, `zfs/graph/${mount}-init`, `zfs/graph/${layers[1]}`, `zfs/graph/${layers[0]}`],
		);
		assert.equal(
			c.chain.map(e => e.driverRecord?.fields.dataset),
			[`<fsname>/${mount}`, `<fsname>/${mount}-init`, `<fsname>/${layers[1]}`, `<fsname>/${layers[0]}`],
		);
		assert.ok(m.layers.every(l => l.driverRecord?.path === null && /zfs\.fsname/.test(l.driverRecord.note ?? '')));
		const report = await runChecks({model: m, raw, source}, {deep: false});
		assert.equal(
			report.findings.filter(f => f.severity !== 'info').map(f => f.code),
			[],
		);
		// A mount point left by a layer mounted when the copy was taken is fine; one nothing refers to is an orphan.
		fs.mkdirSync(root.p(`zfs/graph/${layers[0]}`));
		fs.mkdirSync(root.p(`zfs/graph/${hex('gone')}`));
		const again = load(root.dir);
		assert.equal(codes(again.model), ['info driver.content-unreadable store:zfs']);
		const r2 = await runChecks({model: again.model, raw: again.raw, source: again.source}, {deep: false});
		assert.equal(
			r2.findings.filter(f => f.code === 'orphan.driver-dir').map(f => f.path),
			[`zfs/graph/${hex('gone')}`],
		);
		const files = await ll(['diff', 'web', '--root', root.dir]);
		assert.is(files.code, 2, 'diff says the layers are not readable');
		assert.match(files.stderr, /ZFS datasets/);
	} finally {
		root.remove();
	}
});

/** windowsfilter as windows.go writes it: Files/ and Hives/ per image layer, an empty -init layer, sandbox.vhdx in the RW layer, layerchain.json of Windows paths. */
function windowsRoot() {
	const home = 'C:\\ProgramData\\docker\\windowsfilter';
	return rootFor('windowsfilter', (r, x) => {
		const [base, top] = x.layers as [string, string];
		for (const id of x.layers) {
			fs.mkdirSync(r.p(`windowsfilter/${id}/Files/Windows`), {recursive: true});
			fs.mkdirSync(r.p(`windowsfilter/${id}/Hives`), {recursive: true});
		}
		r.write(`windowsfilter/${base}/layerchain.json`, 'null');
		r.write(`windowsfilter/${top}/layerchain.json`, JSON.stringify([`${home}\\${base}`]));
		fs.mkdirSync(r.p(`windowsfilter/${x.mount}-init`), {recursive: true});
		r.write(`windowsfilter/${x.mount}-init/layerchain.json`, JSON.stringify([`${home}\\${top}`, `${home}\\${base}`]));
		r.write(`windowsfilter/${x.mount}/sandbox.vhdx`, '');
		r.write(`windowsfilter/${x.mount}/layerchain.json`, JSON.stringify([`${home}\\${top}`, `${home}\\${base}`]));
	});
}

test('windowsfilter: layer ids as layers and chains, layerchain.json shown and checked against layerdb (the -init layer left out, as windows.go does)', async () => {
	const {root, layers, cid, mount, ids} = windowsRoot();
	try {
		let {model: m, raw, source} = load(root.dir);
		assert.equal(codes(m), ['info driver.content-unreadable store:windowsfilter']);
		assert.equal(m.drivers, ['windowsfilter']);
		assert.equal(m.layers.map(l => l.path).sort(), layers.map(l => `windowsfilter/${l}`).sort());
		const c = m.containers.find(x => x.id === cid)!;
		assert.equal(
			c.chain.map(e => [e.role, e.cacheId]),
			[
				['rw', mount],
				['init', `${mount}-init`],
				['image', layers[1]],
				['image', layers[0]],
			],
		);
		assert.equal(c.chain[0]!.driverRecord?.fields.parentIds, [layers[1], layers[0]]);
		assert.equal(m.layers.find(l => l.cacheId === layers[0])!.driverRecord?.fields, {paths: [], parentIds: []});
		let report = await runChecks({model: m, raw, source}, {deep: false});
		assert.equal(
			report.findings.filter(f => f.severity !== 'info').map(f => f.code),
			[],
		);
		assert.ok(
			report.objects.some(o => o.checks.some(k => k.check === 'container.driver-records' && k.status === 'pass')),
		);
		// A layer chain that disagrees with layerdb, and hostile files: one finding each.
		root.write(`windowsfilter/${mount}/layerchain.json`, JSON.stringify([`C:\\x\\${layers[0]}`]));
		root.write(`windowsfilter/${layers[1]}/layerchain.json`, '{"a":1}');
		root.write(`windowsfilter/${mount}-init/layerchain.json`, '[');
		({model: m, raw, source} = load(root.dir));
		// getLayerChain fails on a file it cannot unmarshal, and with it every mount of the layer: errors.
		assert.equal(codes(m), [
			`error driver.record-invalid layer:${ids[1]!.slice(7, 19)}`,
			`error json.invalid container:${cid.slice(0, 12)}`,
			'info driver.content-unreadable store:windowsfilter',
		]);
		report = await runChecks({model: m, raw, source}, {deep: false});
		const mismatch = report.findings.filter(f => f.code === 'driver.lower-mismatch');
		assert.equal(
			mismatch.map(f => [f.subject, f.path]),
			[[`container:${cid}`, `windowsfilter/${mount}/layerchain.json`]],
		);
		assert.match(
			mismatch[0]!.message,
			/RW layer windowsfilter\/[0-9a-f]{64}: its layerchain.json disagrees with layerdb \(entry 1 is [0-9a-f]{12}…, layerdb says [0-9a-f]{12}…\)/,
		);
	} finally {
		root.remove();
	}
});

test('btrfs quotas/<id> (--storage-opt size=): shown on the RW and init layers; a bad quota file is one finding', () => {
	const {root, cid, mount} = rootFor('btrfs', (r, x) => {
		for (const id of [...x.layers, x.mount, `${x.mount}-init`])
			fs.mkdirSync(r.p(`btrfs/subvolumes/${id}`), {recursive: true});
		r.write(`btrfs/quotas/${x.mount}`, '67108864');
		r.write(`btrfs/quotas/${x.mount}-init`, '99999999999999999999');
		r.write(`btrfs/quotas/${hex('gone')}`, '12abc\n');
	});
	try {
		const {model: m} = load(root.dir);
		assert.equal(codes(m), [
			`warning driver.record-invalid container:${cid.slice(0, 12)}`,
			'warning driver.record-invalid store:btrfs',
		]);
		const c = m.containers.find(x => x.id === cid)!;
		assert.equal(c.chain[0]!.driverRecord, {path: `btrfs/quotas/${mount}`, fields: {size: 67108864}});
		assert.equal(c.chain[1]!.driverRecord?.fields, {size: null});
		assert.is(c.chain[2]!.driverRecord, undefined, 'image layers have no quota');
		assert.match(
			m.findings.find(f => f.subject === 'store:btrfs')!.message,
			/not a decimal number of bytes up to 2\^64-1 \("12abc\\n"\): the daemon ignores it/,
		);
	} finally {
		root.remove();
	}
});

test.run();
