// `layerlens df` against a real dockerd (overlay2, vfs and fuse-overlayfs; then dockerd 26 with the
// containerd store, at the end): a state with shared layers, a dangling
// image, intermediate images, volumes used and unused (named and anonymous), json-file logs with
// rotation, a container with a 20 MB file (and a hard link to it) in its RW layer, and an orphan
// directory planted in the driver's directory. Every per-object figure equals what the Engine API
// said on the same state (GET /system/df and /containers/json?all=1&size=1); the ledger's total
// equals find's sum of st_size (hard links once) and its allocated bytes du -B1 -s.
// Run under `flock /tmp/layerlens-dockerd.lock`.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {run} from '../../src/cli.ts';
import type {DfReport} from '../../src/disk/report.ts';
import {
	type Daemon,
	type Driver,
	cleanup,
	docker26Available,
	dockerdAvailable,
	startDockerd,
} from '../helpers/dockerd.ts';
import {BUSYBOX_APPLETS, busyboxRootfsTar} from '../helpers/real-states.ts';

const avail = dockerdAvailable();

type ApiContainer = {Id: string; SizeRw?: number; SizeRootFs?: number};
type ApiDf = {
	LayersSize: number;
	Images: Array<{Id: string; Size: number; SharedSize: number; Containers: number}>;
	Volumes: Array<{Name: string; UsageData: {Size: number; RefCount: number}}>;
};

function api<T>(daemon: Daemon, url: string): T {
	return JSON.parse(
		execFileSync('curl', ['-sf', '--unix-socket', daemon.socket, `http://x${url}`], {
			encoding: 'utf8',
			maxBuffer: 64 << 20,
		}),
	) as T;
}

/** The state: every container stopped (or never started), so the daemon's figures hold after it stops. */
function makeState(daemon: Daemon): void {
	const d = daemon.docker;
	const work = path.join(daemon.dir, 'work');
	const ctx = path.join(work, 'ctx');
	fs.mkdirSync(ctx, {recursive: true});
	d(['import', '-', 'local/busybox:1'], {
		input: busyboxRootfsTar(path.join(work, 'rootfs'), [...BUSYBOX_APPLETS, '[', 'dd', 'ln', 'seq']),
	});
	// Two builds of one tag: the first becomes dangling; both share the base layer and the first steps (intermediate images).
	const build = (hello: string): void => {
		fs.writeFileSync(
			path.join(ctx, 'Dockerfile'),
			'FROM local/busybox:1\nRUN mkdir /app && echo base > /app/base\nCOPY hello.txt /app/hello.txt\nRUN echo more > /app/more\n',
		);
		fs.writeFileSync(path.join(ctx, 'hello.txt'), hello);
		d(['build', '-q', '-t', 'local/app:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
	};
	build('hello, first build\n');
	build('hello, second build, a little longer\n');
	d(['tag', 'local/busybox:1', 'local/busybox:alias']);
	d(['volume', 'create', 'used']);
	d(['volume', 'create', 'unused']);
	d([
		'run',
		'--rm',
		'--network',
		'none',
		'-v',
		'unused:/v',
		'local/busybox:1',
		'sh',
		'-c',
		'echo left behind > /v/f && ln -s f /v/link',
	]);
	d([
		'run',
		'--name',
		'vol',
		'--network',
		'none',
		'-v',
		'used:/v',
		'-v',
		'/anon',
		'local/app:1',
		'sh',
		'-c',
		'echo in use > /v/data && echo anonymous > /anon/a',
	]);
	d([
		'run',
		'--name',
		'logs',
		'--network',
		'none',
		'--log-opt',
		'max-size=1k',
		'--log-opt',
		'max-file=3',
		'local/busybox:1',
		'sh',
		'-c',
		'for i in $(seq 1 300); do echo "line $i of the log"; done',
	]);
	d([
		'run',
		'--name',
		'big',
		'--network',
		'none',
		'local/app:1',
		'sh',
		'-c',
		'dd if=/dev/zero of=/big bs=1M count=20 2>/dev/null && ln /big /big.link && ln -s /big /big.sym && rm /app/base',
	]);
	d(['create', '--name', 'fresh', '--network', 'none', 'local/busybox:1', 'true']);
}

async function dfJson(root: string, env: Record<string, string> = {}): Promise<DfReport> {
	let out = '';
	let err = '';
	Object.assign(process.env, env);
	try {
		const code = await run(['df', '--json', '--root', root], {
			stdout: {write: (s: string) => (out += s)},
			stderr: {write: (s: string) => (err += s)},
			env: {},
		} as never);
		assert.is(code, 0, err);
	} finally {
		for (const k of Object.keys(env)) delete process.env[k];
	}
	return JSON.parse(out) as DfReport;
}

function findApparent(root: string): number {
	const seen = new Set<string>();
	let total = 0;
	for (const line of execFileSync(
		'find',
		[root, '(', '-type', 'f', '-o', '-type', 'l', ')', '-printf', '%D:%i %n %s\\n'],
		{encoding: 'utf8', maxBuffer: 1 << 28},
	).split('\n')) {
		if (line === '') continue;
		const [ino, links, size] = line.split(' ');
		if (Number(links) > 1) {
			if (seen.has(ino!)) continue;
			seen.add(ino!);
		}
		total += Number(size);
	}
	return total;
}

function compareObjects(driver: Driver, r: DfReport, containers: ApiContainer[], sdf: ApiDf): void {
	const ours = new Map(r.containers.map(c => [c.id, c]));
	assert.is(r.containers.length, containers.length);
	for (const c of containers) {
		const o = ours.get(c.Id)!;
		assert.ok(o !== undefined, c.Id);
		assert.is(o.sizeRw, c.SizeRw ?? 0, `${driver} ${o.name}: SizeRw`);
		assert.is(o.sizeRootFs, c.SizeRootFs ?? 0, `${driver} ${o.name}: SizeRootFs`);
	}
	const big = r.containers.find(c => c.name === 'big')!;
	assert.ok(big.sizeRw! >= 20 << 20 && big.sizeRw! < 21 << 20, `the 20 MB file once, not twice: ${big.sizeRw}`);
	const logs = r.containers.find(c => c.name === 'logs')!;
	const logFiles = fs
		.readdirSync(path.join(r.root, 'containers', logs.id))
		.filter(n => n.startsWith(`${logs.id}-json.log`));
	assert.ok(logFiles.length >= 2, `rotated: ${logFiles.join(', ')}`);
	assert.is(
		logs.logBytes,
		logFiles.reduce((n, f) => n + fs.statSync(path.join(r.root, 'containers', logs.id, f)).size, 0),
	);
	const images = new Map(r.images.map(i => [i.id, i]));
	assert.is(r.images.filter(i => !i.intermediate).length, sdf.Images.length);
	for (const i of sdf.Images) {
		const o = images.get(i.Id)!;
		assert.ok(o !== undefined && !o.intermediate, i.Id);
		assert.is(o.size, i.Size, `${driver} ${i.Id}: Size`);
		assert.is(o.sharedSize, i.SharedSize, `${driver} ${i.Id}: SharedSize (dockerd 20.10)`);
		assert.is(o.containers, i.Containers, `${driver} ${i.Id}: Containers`);
	}
	assert.ok(r.images.some(i => i.dangling) && r.images.some(i => i.intermediate));
	const volumes = new Map(r.volumes.map(v => [v.name, v]));
	assert.is(r.volumes.length, sdf.Volumes.length);
	for (const v of sdf.Volumes) {
		const o = volumes.get(v.Name)!;
		assert.is(o.bytes, v.UsageData.Size, `${driver} volume ${v.Name}: Size`);
		assert.is(o.containers, v.UsageData.RefCount, `${driver} volume ${v.Name}: RefCount`);
	}
}

async function one(driver: Driver): Promise<void> {
	const daemon = await startDockerd({driver});
	try {
		makeState(daemon);
		const containers = api<ApiContainer[]>(daemon, '/containers/json?all=1&size=1');
		const sdf = api<ApiDf>(daemon, '/system/df');
		await daemon.stop();
		const root = daemon.root;
		// An orphan directory, as an interrupted removal leaves one: no layer, container or init layer names it.
		const layers = driver === 'vfs' ? 'vfs/dir' : driver;
		const orphan = `${layers}/${'0'.repeat(63)}1`;
		fs.mkdirSync(path.join(root, orphan, driver === 'vfs' ? 'etc' : 'diff/etc'), {recursive: true});
		fs.writeFileSync(path.join(root, orphan, driver === 'vfs' ? 'etc/left' : 'diff/etc/left'), 'x'.repeat(12345));
		const r = await dfJson(root);
		assert.is(
			r.categories.reduce((n, c) => n + c.bytes, 0),
			r.total.bytes,
			'balances',
		);
		assert.is(r.total.bytes, findApparent(root), `${driver}: the total is find's`);
		assert.is(r.total.unknown, 0);
		assert.equal(r.unattributed, [], 'nothing left to "other"');
		const o = r.orphans.find(x => x.path === orphan);
		assert.ok(o !== undefined && o.bytes === 12345 && o.code === 'orphan.driver-dir', JSON.stringify(r.orphans));
		compareObjects(driver, r, containers, sdf);
		const volume = r.categories.find(c => c.kind === 'volume')!;
		const unusedBytes = r.volumes.filter(v => v.containers === 0).reduce((n, v) => n + v.bytes, 0);
		assert.ok(volume.reclaimableBytes >= unusedBytes && unusedBytes > 0, 'unused volumes are reclaimable');
		// Allocated bytes: as du -B1 -s counts them (node:fs gives block counts whatever native reader is built).
		const blocks = r.total.blocks ?? (await dfJson(root, {LAYERLENS_DOOR: 'node'})).total.blocks;
		assert.is(
			blocks,
			Number(execFileSync('du', ['-B1', '-s', root], {encoding: 'utf8'}).split('\t')[0]),
			`${driver}: allocated is du's`,
		);
	} finally {
		await cleanup(daemon);
	}
}

for (const driver of ['overlay2', 'vfs', 'fuse-overlayfs'] as const) {
	test(`${driver}: df's figures are the Engine API's, its total find's and du's`, async () => {
		if (!avail.ok) return console.log(`  (skipped: ${avail.why})`);
		await one(driver);
	});
}

// dockerd 26 with the containerd image store: SizeRw and SizeRootFs are the overlayfs snapshotter's
// usage (allocated bytes, directories included, measured when asked), so they need block counts.
test("containerd store (dockerd 26): SizeRw, SizeRootFs and volumes are the Engine API's; the ledger balances and is find's", async () => {
	const c8d = docker26Available();
	if (!c8d.ok) return console.log(`  (skipped: ${c8d.why})`);
	const daemon = await startDockerd({driver: 'overlayfs'});
	try {
		const d = daemon.docker;
		d(['import', '-', 'local/busybox:1'], {
			input: busyboxRootfsTar(path.join(daemon.dir, 'work', 'rootfs'), [...BUSYBOX_APPLETS, 'dd', 'ln']),
		});
		d(['tag', 'local/busybox:1', 'local/other:1']);
		d([
			'run',
			'--name',
			'big',
			'--network',
			'none',
			'local/busybox:1',
			'sh',
			'-c',
			'dd if=/dev/zero of=/big bs=1M count=3 2>/dev/null && ln /big /big2 && rm /bin/ls',
		]);
		d(['volume', 'create', 'v1']);
		d(['run', '--name', 'vol', '--network', 'none', '-v', 'v1:/v', 'local/busybox:1', 'sh', '-c', 'echo hi > /v/a']);
		const containers = api<ApiContainer[]>(daemon, '/containers/json?all=1&size=1');
		const sdf = api<ApiDf>(daemon, '/system/df');
		await daemon.stop();
		const first = await dfJson(daemon.root);
		const r = first.total.blocks === null ? await dfJson(daemon.root, {LAYERLENS_DOOR: 'node'}) : first;
		assert.is(
			r.categories.reduce((n, c) => n + c.bytes, 0),
			r.total.bytes,
			'balances',
		);
		assert.is(r.total.bytes, findApparent(daemon.root));
		assert.equal(r.unattributed, []);
		assert.ok(r.categories.find(c => c.kind === 'containerd-content')!.bytes > 0);
		assert.is(r.containers.length, containers.length);
		for (const c of containers) {
			const o = r.containers.find(x => x.id === c.Id)!;
			assert.is(o.sizeRw, c.SizeRw ?? 0, `${o.name}: SizeRw`);
			assert.is(o.sizeRootFs, c.SizeRootFs ?? 0, `${o.name}: SizeRootFs`);
		}
		for (const v of sdf.Volumes) {
			const o = r.volumes.find(x => x.name === v.Name)!;
			assert.is(o.bytes, v.UsageData.Size);
			assert.is(o.containers, v.UsageData.RefCount);
		}
		// The daemon's image Size adds the image's content blobs (compressed layers, config, manifest) to its snapshots' sizes; ours is the snapshots' alone.
		for (const i of sdf.Images) assert.ok(r.images.find(x => x.id === i.Id)!.size! < i.Size, i.Id);
	} finally {
		await cleanup(daemon);
	}
});

test.run();
