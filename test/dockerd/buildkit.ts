// BuildKit's databases, made by real daemons: a BuildKit build (docker-buildx
// 0.13 from Debian trixie, as a CLI plugin in the harness's private DOCKER_CONFIG) on dockerd 20.10 with
// overlay2 (graph-driver mode: buildkit/metadata_v2.db) and on dockerd 26 with the containerd image
// store (buildkit/containerd-overlayfs/metadata_v2.db). Every buildkit/*.db must read without an error
// with our bbolt reader, and the build cache read offline must be what `docker buildx du --verbose`
// said: the same records, descriptions, types, sizes, usage counts and creation times.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {openBolt, dumpBolt} from '../../src/formats/bbolt.ts';
import {readBuildCache} from '../../src/read/buildkit.ts';
import {openSource} from '../../src/load.ts';
import {humanSize} from '../../src/units.ts';
import {cli} from '../helpers/run-cli.ts';
import {
	DOCKER26_DIR,
	type Daemon,
	type Driver,
	cleanup,
	docker26Available,
	dockerdAvailable,
	startDockerd,
} from '../helpers/dockerd.ts';
import {busyboxRootfsTar} from '../helpers/real-states.ts';

const buildx = path.join(DOCKER26_DIR, 'cli-plugins', 'docker-buildx');

type DuRecord = {id: string; description: string; size: string; usage: number; type: string; created: string};

/** `docker buildx du --verbose`: blocks of "Key:\tvalue" lines. */
function parseDu(text: string): DuRecord[] {
	const out: DuRecord[] = [];
	for (const block of text.split(/\n\s*\n/)) {
		const f = new Map<string, string>();
		for (const line of block.split('\n')) {
			const m = /^([A-Za-z ]+):\s+(.*)$/.exec(line);
			if (m !== null) f.set(m[1]!.trim(), m[2]!);
		}
		if (!f.has('ID')) continue;
		out.push({
			id: f.get('ID')!,
			description: f.get('Description') ?? '',
			size: f.get('Size') ?? '',
			usage: Number(f.get('Usage count')),
			type: f.get('Type') ?? '',
			created: f.get('Created at') ?? '',
		});
	}
	return out;
}

/** Go's time.Time.String() of an ISO 8601 time with nanoseconds: '2026-11-29 11:02:44.91015516 +0000 UTC'. */
function goTime(iso: string): string {
	const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)\.(\d{9})Z$/.exec(iso)!;
	const frac = m[3]!.replace(/0+$/, '');
	return `${m[1]} ${m[2]}${frac === '' ? '' : `.${frac}`} +0000 UTC`;
}

function build(d: Daemon): void {
	fs.mkdirSync(path.join(d.dir, 'client', 'cli-plugins'), {recursive: true});
	fs.symlinkSync(buildx, path.join(d.dir, 'client', 'cli-plugins', 'docker-buildx'));
	const work = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-bk-'));
	try {
		d.docker(['import', '-', 'local/base:1'], {input: busyboxRootfsTar(path.join(work, 'rootfs'), ['sh'])});
		const ctx = path.join(work, 'ctx');
		fs.mkdirSync(ctx);
		fs.writeFileSync(path.join(ctx, 'data.txt'), 'context file\n');
		// A COPY from the context, two RUN steps and a cache mount: regular, source.local and exec.cachemount records.
		fs.writeFileSync(
			path.join(ctx, 'Dockerfile'),
			'FROM local/base:1\nCOPY data.txt /data.txt\nRUN echo hi > /x\nRUN --mount=type=cache,target=/cache echo cached > /cache/c && echo two > /y\n',
		);
		d.docker(['build', '--network', 'none', '-t', 'local/bk:1', ctx], {env: {DOCKER_BUILDKIT: '1'}});
	} finally {
		fs.rmSync(work, {recursive: true, force: true});
	}
}

const cases: Array<[string, Driver, {ok: boolean; why: string}]> = [
	['dockerd 20.10, overlay2 (graph-driver mode)', 'overlay2', dockerdAvailable()],
	['dockerd 26, containerd image store', 'overlayfs', docker26Available()],
];

for (const [name, driver, avail] of cases) {
	const ready =
		avail.ok && fs.existsSync(buildx)
			? avail
			: {ok: false, why: avail.ok ? `${buildx} missing (run scripts/fetch-docker26.sh)` : avail.why};
	if (!ready.ok) {
		test(`BuildKit databases, ${name} (needs root, dockerd and buildx)`, () => {
			if (process.env.CI) assert.unreachable(`cannot run in CI: ${ready.why}`);
			console.log(`  skip: ${ready.why}`);
		});
		continue;
	}
	test(`BuildKit databases, ${name}: every buildkit/*.db reads cleanly; the build cache equals docker buildx du`, async () => {
		const first = await startDockerd({driver});
		let d = first;
		try {
			build(first);
			await first.stop();
			// Asked again after a restart, the daemon answers from what is on disk (a live daemon's
			// counts may be ahead of its database until it writes them).
			d = await startDockerd({driver, dir: first.dir});
			const du = parseDu(d.docker(['buildx', 'du', '--verbose']));
			await d.stop();
			assert.ok(du.length >= 4, `buildx du listed ${du.length} records`);
			// Every bbolt file BuildKit left, walked whole.
			const dbs = execFileSync('find', [path.join(d.root, 'buildkit'), '-name', '*.db', '-type', 'f'], {
				encoding: 'utf8',
			})
				.trim()
				.split('\n')
				.filter(Boolean);
			assert.ok(dbs.length >= 2, dbs.join(' '));
			for (const file of dbs) {
				const o = openBolt(fs.readFileSync(file));
				assert.ok(o.ok, `${file}: ${o.ok ? '' : o.error}`);
				if (!o.ok) continue;
				const errors: string[] = [];
				dumpBolt(o.db, o.db.root, errors);
				assert.equal(errors, [], file);
			}
			const cache = readBuildCache(openSource(d.root));
			assert.equal(cache.findings, []);
			assert.is(cache.databases.length, 1, cache.databases.join(' '));
			assert.is(
				cache.databases[0],
				driver === 'overlayfs' ? 'buildkit/containerd-overlayfs/metadata_v2.db' : 'buildkit/metadata_v2.db',
			);
			const ours = new Map(cache.records.map(r => [r.id, r]));
			let sized = 0;
			// du lists the records it accounts for; the database may hold more (e.g. records of a parent chain), never fewer.
			for (const r of du) {
				const o = ours.get(r.id);
				assert.ok(o !== undefined, `du record ${r.id} (${r.description}) is in the database`);
				assert.is(o!.description ?? '', r.description, r.id);
				// Cache-mount records (mutable, exec.cachemount): du printed one less than the database holds (seen on 20.10 and 26).
				if (r.type === 'exec.cachemount')
					assert.ok(o!.usageCount === r.usage || o!.usageCount === r.usage + 1, `${r.id} usage count`);
				else assert.is(o!.usageCount, r.usage, `${r.id} usage count`);
				// BuildKit stores snapshot.size once it has measured a record; du measures the others live.
				if (o!.size !== undefined) {
					assert.is(humanSize(o!.size, 4), r.size, `${r.id} size`);
					sized++;
				}
				assert.is(o!.recordType ?? 'regular', r.type, `${r.id} type`);
				assert.is(goTime(o!.createdAt!), r.created, `${r.id} created`);
			}
			assert.ok(sized >= 3, `${sized} records with a stored size compared`);
			// The same records in the model (layerlens model --json) and the tree's header, from the directory and from an archive.
			const model = JSON.parse(cli(['model', '--json', '--root', d.root]).stdout) as {
				buildCache: {records: Array<{id: string; type: string; description: string}>; size: number};
			};
			assert.equal(model.buildCache.records.map(r => r.id).sort(), cache.records.map(r => r.id).sort());
			for (const r of du) assert.is(model.buildCache.records.find(x => x.id === r.id)!.type, r.type);
			const tree = cli(['tree', '--root', d.root]);
			assert.match(
				tree.stdout,
				new RegExp(
					`^build cache ${cache.records.length} BuildKit records, \\S+ recorded  ${cache.databases[0]!.replace(/\./g, '\\.')}$`,
					'm',
				),
			);
			if (driver === 'overlay2') {
				// BuildKit's snapshots in overlay2/ (its 25-character ids) are build cache: check says so, never orphan.driver-dir,
				// and df counts them as build cache.
				const snapshotDirs = fs
					.readdirSync(path.join(d.root, 'overlay2'))
					.filter(n => /^[a-z0-9]{25}$/.test(n))
					.sort();
				assert.ok(snapshotDirs.length >= 1, `BuildKit left ${snapshotDirs.length} snapshot directories in overlay2/`);
				const checked = JSON.parse(cli(['check', '--json', '--root', d.root]).stdout) as {
					findings: Array<{code: string; path?: string}>;
				};
				assert.equal(
					checked.findings.filter(f => f.code === 'orphan.driver-dir').map(f => f.path),
					[],
				);
				// Each is either a layer's directory (BuildKit's committed snapshots become image layers under its id) or build cache.
				const layers = JSON.parse(cli(['model', '--json', '--root', d.root]).stdout) as {
					layers: Array<{cacheId: string | null}>;
				};
				const layerDirs = new Set(layers.layers.map(l => l.cacheId));
				const cacheDirs = checked.findings.filter(f => f.code === 'cache.buildkit-snapshot').map(f => f.path);
				assert.ok(cacheDirs.length >= 1, 'BuildKit left snapshots that no layer names');
				assert.equal(
					cacheDirs.sort(),
					snapshotDirs.filter(n => !layerDirs.has(n)).map(n => `overlay2/${n}`),
				);
				const df = JSON.parse(cli(['df', '--json', '--root', d.root]).stdout) as {
					categories: Array<{kind: string; bytes: number}>;
				};
				assert.ok(
					(df.categories.find(c => c.kind === 'build-cache')?.bytes ?? 0) > 0,
					'df counts BuildKit snapshots as build cache',
				);
				assert.is(
					df.categories.find(c => c.kind === 'orphan')?.bytes ?? 0,
					0,
					'no orphan bytes on a clean BuildKit state',
				);
			}
			const archive = path.join(d.dir, 'root.tar.gz');
			execFileSync('tar', ['-czf', archive, '-C', path.dirname(d.root), path.basename(d.root)]);
			const fromArchive = JSON.parse(cli(['model', '--json', '--root', archive]).stdout) as typeof model;
			assert.equal(fromArchive.buildCache, model.buildCache, 'the archive gives the same build cache');
			const types = new Set(du.map(r => r.type));
			assert.ok(
				types.has('regular') && types.has('source.local') && types.has('exec.cachemount'),
				[...types].join(' '),
			);
		} finally {
			await cleanup(d);
		}
	});
}

test.run();
