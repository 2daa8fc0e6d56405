// The pre-1.10 layout (Docker ≤ 1.9), built in code to the reference layout notes §2 (sources:
// moby@v1.9.1 graph/graph.go — graph/<id>/{json,layersize,checksum,tar-data.json.gz}, one image =
// one layer, id = random hex64; graph/tags.go — repositories-<driver> with bare tags, `sha256:`
// digest keys and bare hex values; daemon/daemon.go, daemon/container.go — containers/<id>/config.json,
// the RW layer named by the container id and the init layer `<id>-init`; §3.1 aufs/layers/<id>) and,
// for the leftovers of the upgrade, moby@v1.10.0 migrate/v1/migratev1.go (graph/<id>/.migration-*,
// .migration-v1-images.json, graph/ kept beside image/<driver>/).
import fs from 'node:fs';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {runChecks} from '../../src/checks/index.ts';
import {loadModel, openSource} from '../../src/load.ts';
import {resolveRef} from '../../src/model/resolve.ts';
import {FakeRoot, hex} from '../helpers/fake-root.ts';
import {cliIn as cli} from '../helpers/run-cli.ts';
import {matchSnapshot} from '../helpers/snapshot.ts';
import {buildV1Root, v1} from '../helpers/v1-root.ts';

const load = (dir: string) => loadModel(openSource(dir));

/** aufs/layers/<id> as written: the branches below <id>, nearest first. */
const aufsLayers = (dir: string, id: string): string[] =>
	fs
		.readFileSync(`${dir}/aufs/layers/${id}`, 'utf8')
		.split('\n')
		.filter(l => l !== '');

test('v1: containers link to RW (container id), init (<id>-init) and image layers, as aufs/layers lists them', () => {
	const r = buildV1Root();
	try {
		const m = load(r.dir).model;
		assert.is(m.layout, 'v1');
		assert.equal(m.drivers, ['aufs']);
		const byName = new Map(m.containers.map(c => [c.name, c]));
		assert.equal(
			[...byName.keys()].sort(),
			[null, 'done', 'just_created', 'lost', 'web'].sort((a, b) => String(a).localeCompare(String(b))),
		);
		for (const [name, id, image] of [
			['just_created', v1.created, v1.app],
			['web', v1.running, v1.base],
			['done', v1.exited, v1.app],
		] as const) {
			const c = byName.get(name)!;
			assert.is(c.id, id);
			assert.is(c.imageId, image);
			assert.is(c.driver, 'aufs');
			assert.is(c.mountId, id);
			assert.is(c.initId, `${id}-init`);
			assert.is(c.parentChainId, image);
			assert.equal(
				c.chain.map(e => e.role),
				['rw', 'init', ...c.chain.slice(2).map(() => 'image')],
			);
			// The chain below the RW layer is exactly what aufs mounts.
			assert.equal(
				c.chain.slice(1).map(e => e.cacheId),
				aufsLayers(r.dir, id),
			);
			assert.equal(
				c.chain.slice(2).map(e => e.cacheId),
				aufsLayers(r.dir, `${id}-init`),
			);
			assert.equal(
				c.chain.map(e => e.path),
				c.chain.map(e => `aufs/diff/${e.cacheId}`),
			);
			assert.ok(c.chain.every(e => e.pathExists));
		}
		assert.is(byName.get('just_created')!.status, 'created');
		assert.is(byName.get('web')!.status, 'running');
		assert.is(byName.get('done')!.status, 'exited');
		assert.is(byName.get('done')!.exitCode, 3);
		assert.equal(byName.get('done')!.imageTags, ['app:1.0', 'app:latest']);
		assert.is(byName.get('done')!.command, "sh -c 'sleep 1000'");
		assert.equal(byName.get('done')!.argv, ['sh', '-c', 'sleep 1000'], 'the arguments as stored');
		assert.is(byName.get('web')!.imageRef, 'busybox');
		assert.equal(byName.get('web')!.hostConfig?.NetworkMode, 'default');
		// Image gone: its RW and init layers are still shown, no image layers.
		const lost = byName.get('lost')!;
		assert.equal(
			lost.chain.map(e => e.role),
			['rw', 'init'],
		);
		assert.is(lost.imageId, v1.goneImage);
	} finally {
		r.remove();
	}
});

test('v1: images keep their bare ids, chains from parent links, tags and digests from repositories-aufs', () => {
	const r = buildV1Root();
	try {
		const m = load(r.dir).model;
		const img = new Map(m.images.map(i => [i.id, i]));
		assert.equal([...img.keys()].sort(), [v1.app, v1.base, v1.broken].sort());
		const app = img.get(v1.app)!;
		assert.equal(app.chainIds, [v1.base, v1.app], 'bottom first');
		assert.equal(app.diffIds, []);
		assert.is(app.parent, v1.base);
		assert.equal(app.tags, ['app:1.0', 'app:latest']);
		assert.is(app.size, 4096 + 12);
		assert.is(app.path, `graph/${v1.app}/json`);
		assert.equal(
			app.history.map(h => h.createdBy),
			['/bin/sh -c #(nop) ADD file:abc in /', '/bin/sh -c echo hello > /hello'],
		);
		assert.equal(app.containers, [v1.exited, v1.created].sort());
		const base = img.get(v1.base)!;
		assert.equal(base.tags, ['busybox:latest']);
		assert.equal(base.digests, [`busybox@${v1.digest}`]);
		assert.equal(base.children, [v1.app]);
		assert.is(base.os, 'linux');
		assert.equal(base.config?.Cmd, ['sh']);
		const broken = img.get(v1.broken)!;
		assert.equal(broken.chainIds, [v1.gone, v1.broken]);
		assert.ok(broken.dangling);
		assert.is(broken.size, null);
		// One layer per graph id: cache id = id, path = the driver's directory, metadata in graph/<id>.
		assert.equal(
			m.layers.map(l => [l.chainId, l.cacheId, l.parent, l.size, l.path, l.pathExists, l.metaPath]),
			[
				[v1.app, v1.app, v1.base, 12, `aufs/diff/${v1.app}`, true, `graph/${v1.app}`],
				[v1.base, v1.base, null, 4096, `aufs/diff/${v1.base}`, true, `graph/${v1.base}`],
				[v1.broken, v1.broken, v1.gone, 0, `aufs/diff/${v1.broken}`, true, `graph/${v1.broken}`],
			].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
		);
		const baseLayer = m.layers.find(l => l.chainId === v1.base)!;
		assert.equal(baseLayer.images, [v1.app, v1.base].sort());
		assert.equal(baseLayer.containers, [v1.created, v1.exited, v1.running].sort());
		// A bare id (or prefix) names the image, not its own layer; a tag works as in 1.10+.
		const ref = resolveRef(m, v1.app.slice(0, 12));
		assert.ok(ref.ok && ref.value.kind === 'image' && ref.value.image.id === v1.app);
		const tag = resolveRef(m, 'busybox');
		assert.ok(tag.ok && tag.value.kind === 'image' && tag.value.image.id === v1.base);
	} finally {
		r.remove();
	}
});

test('v1: broken parent, missing image and garbage config are findings on their objects; nothing else is', () => {
	const r = buildV1Root();
	try {
		const m = load(r.dir).model;
		assert.equal(
			m.findings.map(f => [f.severity, f.code, f.subject, f.path]),
			[
				['error', 'json.invalid', `container:${v1.garbage}`, `containers/${v1.garbage}/config.json`],
				['error', 'container.image-missing', `container:${v1.orphan}`, `graph/${v1.goneImage}`],
				['error', 'image.layer-missing', `image:${v1.broken}`, `graph/${v1.gone}`],
			].sort((a, b) => String(a[2]).localeCompare(String(b[2])) || String(a[1]).localeCompare(String(b[1]))),
		);
		assert.not.ok(m.findings.some(f => f.code === 'layout.unsupported' || f.code === 'container.legacy-config'));
		const garbage = m.containers.find(c => c.id === v1.garbage)!;
		assert.is(garbage.status, null);
		assert.equal(garbage.chain, []);
	} finally {
		r.remove();
	}
});

test('v1: check reports only the planted problems (ids that are not digests are skipped, not failed)', async () => {
	const r = buildV1Root();
	try {
		const loaded = load(r.dir);
		for (const deep of [false, true]) {
			const report = await runChecks({source: loaded.source, raw: loaded.raw, model: loaded.model}, {deep});
			const problems = report.findings.filter(f => f.severity !== 'info').map(f => [f.code, f.subject]);
			assert.equal(
				problems.sort(),
				[
					['container.image-missing', `container:${v1.orphan}`],
					['image.layer-missing', `image:${v1.broken}`],
					['json.invalid', `container:${v1.garbage}`],
				].sort(),
				`deep=${deep}`,
			);
			const idCheck = report.objects
				.find(o => o.subject === `image:${v1.app}`)!
				.checks.find(c => c.check === 'image.id')!;
			assert.is(idCheck.status, 'skipped');
			const chainCheck = report.objects
				.find(o => o.subject === `layer:${v1.app}`)!
				.checks.find(c => c.check === 'layer.chain-id')!;
			assert.is(chainCheck.status, 'skipped');
			const records = report.objects
				.find(o => o.subject === `container:${v1.exited}`)!
				.checks.find(c => c.check === 'container.driver-records')!;
			assert.is(records.status, 'pass', 'aufs/layers agrees with the graph chain');
		}
	} finally {
		r.remove();
	}
});

test('v1 --deep: each layer rebuilt from graph/<id>/tar-data.json.gz and its files; a changed file is a content mismatch', async () => {
	const r = buildV1Root();
	try {
		const deepOf = async () => {
			const loaded = load(r.dir);
			return runChecks({source: loaded.source, raw: loaded.raw, model: loaded.model}, {deep: true});
		};
		const statusOf = (report: Awaited<ReturnType<typeof deepOf>>, id: string, check: string) =>
			report.objects.find(o => o.subject === `layer:${id}`)!.checks.find(c => c.check === check)!;
		let report = await deepOf();
		for (const id of [v1.base, v1.app]) {
			const content = statusOf(report, id, 'layer.content');
			assert.is(content.status, 'pass', JSON.stringify(content));
			assert.match(JSON.stringify(content), /tar-data\.json\.gz entries.*every file matches its CRC-64/);
			assert.is(statusOf(report, id, 'layer.size').status, 'pass', "layersize = the sum of the tar's files");
		}
		// Same length, one byte changed: only the CRC-64 can tell.
		const file = r.p(`aufs/diff/${v1.app}/f-${v1.app.slice(0, 6)}`);
		const bytes = fs.readFileSync(file);
		bytes[3] = 0x62;
		fs.writeFileSync(file, bytes);
		report = await deepOf();
		const bad = report.findings.filter(f => f.subject === `layer:${v1.app}`);
		assert.equal(
			bad.map(f => f.code),
			['layer.content-mismatch'],
		);
		assert.match(bad[0]!.message, /tar-data\.json\.gz record.*CRC-64 differs/);
		assert.is(statusOf(report, v1.base, 'layer.content').status, 'pass');
		// Where a 1.10 migration recorded the diff id, the stream must hash to it.
		r.write(`graph/${v1.base}/.migration-diffid`, `sha256:${hex('not-the-stream')}`);
		report = await deepOf();
		const migrated = report.findings.filter(
			f => f.subject === `layer:${v1.base}` && f.code === 'layer.content-mismatch',
		);
		assert.is(migrated.length, 1);
		assert.match(migrated[0]!.message, /the diff id a 1\.10 migration recorded/);
		// A layer without its record.
		fs.rmSync(r.p(`graph/${v1.base}/tar-data.json.gz`));
		report = await deepOf();
		assert.ok(
			report.findings.some(
				f =>
					f.subject === `layer:${v1.base}` &&
					f.code === 'layer.tar-split-missing' &&
					/tar-data\.json\.gz/.test(f.message),
			),
		);
	} finally {
		r.remove();
	}
});

test('v1: hostile graph entries (garbage json, a symlink, a parent loop, a bad repositories file) never throw', () => {
	const r = buildV1Root();
	try {
		const a = hex('v1-loop-a');
		const b = hex('v1-loop-b');
		r.write(`graph/${a}/json`, JSON.stringify({id: a, parent: b}));
		r.write(`graph/${b}/json`, JSON.stringify({id: b, parent: a}));
		r.write(`graph/${hex('v1-garbage')}/json`, '\u0000\u0001not json');
		r.write(`graph/${hex('v1-wrong')}/json`, JSON.stringify({id: hex('other'), parent: 'not-an-id', Size: 'x'}));
		r.write(`graph/${hex('v1-wrong')}/layersize`, 'lots');
		fs.symlinkSync('/etc', r.p(`graph/${hex('v1-link')}`));
		r.write('graph/README', 'x');
		r.write('repositories-aufs', JSON.stringify({Repositories: {x: {latest: 'sha256:nope', v: 7}, y: []}}));
		const m = load(r.dir).model;
		const codes = new Set(m.findings.map(f => f.code));
		for (const c of [
			'layer.parent-loop',
			'json.invalid',
			'image.id-mismatch',
			'image.parent-invalid',
			'layer.field-invalid',
			'file.symlink',
			'entry.unexpected',
			'json.shape',
		]) {
			assert.ok(codes.has(c), `${c} in ${[...codes].join(', ')}`);
		}
		assert.is(m.images.find(i => i.id === v1.app)!.tags.length, 0);
		r.write('repositories-aufs', '{');
		assert.ok(load(r.dir).model.findings.some(f => f.code === 'json.invalid' && f.path === 'repositories-aufs'));
	} finally {
		r.remove();
	}
});

test('v1: every metadata file replaced by hostile bytes: load and check never throw', async () => {
	const r = buildV1Root();
	try {
		const files: string[] = [];
		const walk = (rel: string): void => {
			for (const e of fs.readdirSync(r.p(rel), {withFileTypes: true})) {
				const p = rel === '' ? e.name : `${rel}/${e.name}`;
				if (e.isDirectory()) {
					if (!p.startsWith('aufs/diff/') && !p.startsWith('aufs/mnt')) walk(p);
				} else if (!p.startsWith('aufs/diff/')) files.push(p);
			}
		};
		walk('');
		assert.ok(files.length > 20);
		const variants = [
			'',
			'null',
			'[]',
			'{"id": 5, "parent": {"x": 1}, "Size": -1, "State": 7, "Repositories": "x"}',
			'['.repeat(100000),
			Buffer.from([0xff, 0xfe, 0, 1, 2]).toString('latin1'),
		];
		for (const f of files) {
			const original = fs.readFileSync(r.p(f));
			for (const v of variants) {
				fs.writeFileSync(r.p(f), v);
				const loaded = load(r.dir);
				await runChecks({source: loaded.source, raw: loaded.raw, model: loaded.model});
			}
			fs.writeFileSync(r.p(f), original);
		}
	} finally {
		r.remove();
	}
});

test('v1: a graph/ root with .migration-* files but no image/ store is read as v1, with one info finding', () => {
	const r = buildV1Root();
	try {
		r.write(`graph/${v1.base}/.migration-diffid`, `sha256:${hex('x')}`);
		const m = load(r.dir).model;
		assert.is(m.layout, 'v1');
		assert.equal(
			m.findings.filter(f => f.code.startsWith('layout.')).map(f => [f.severity, f.code]),
			[['info', 'layout.v1-migration-partial']],
		);
	} finally {
		r.remove();
	}
});

test('v1: the driver comes from the containers when there is no repositories-<driver> file', () => {
	const r = buildV1Root();
	try {
		fs.rmSync(r.p('repositories-aufs'));
		const m = load(r.dir).model;
		assert.equal(m.drivers, ['aufs']);
		assert.is(m.containers.find(c => c.id === v1.exited)!.chain.length, 4);
		assert.ok(m.images.every(i => i.tags.length === 0));
	} finally {
		r.remove();
	}
});

test('1.10 migration leftovers: the 1.10+ store is read; one info finding says graph/ was left behind', () => {
	const root = new FakeRoot('aufs');
	try {
		const layers = [{diffId: `sha256:${hex('mig-diff')}`, cacheId: v1.base}];
		const image = root.addImage({layers, tags: ['busybox:latest']});
		root.addContainer({id: v1.running, name: 'web', image, mountId: v1.running}, layers[0]!.diffId);
		// What migratev1.go leaves: the old graph entry (with its .migration-* files), the old tags file,
		// the migrated-images map, and the old config.json beside config.v2.json.
		root.write(`graph/${v1.base}/json`, JSON.stringify({id: v1.base}));
		root.write(`graph/${v1.base}/.migration-diffid`, layers[0]!.diffId);
		root.write(`graph/${v1.base}/.migration-size`, '0');
		root.write('repositories-aufs', JSON.stringify({Repositories: {busybox: {latest: v1.base}}}));
		root.write('.migration-v1-images.json', JSON.stringify({[v1.base]: image}));
		root.write(`containers/${v1.running}/config.json`, '{}');
		const m = load(root.dir).model;
		assert.is(m.layout, 'v2');
		assert.equal(
			m.findings.map(f => [f.severity, f.code, f.path]),
			[['info', 'layout.v1-leftover', 'graph']],
		);
		assert.match(m.findings[0]!.message, /repositories-aufs/);
		assert.equal(
			m.images.map(i => i.id),
			[image],
		);
		assert.is(m.containers[0]!.chain.length, 3);
	} finally {
		root.remove();
	}
});

test('v1 through the CLI: tree (snapshot), ls, images, model, inspect', async () => {
	const r = buildV1Root();
	try {
		const strip = (s: string) => s.replaceAll(r.dir, '<root>');
		const tree = await cli(['tree', '--root', r.dir]);
		assert.is(tree.code, 0, tree.stderr);
		assert.match(tree.stdout, /layout v1 {2}driver aufs/);
		matchSnapshot('text/v1-tree.txt', strip(tree.stdout));
		const ls = JSON.parse((await cli(['ls', '--json', '--root', r.dir])).stdout) as Array<Record<string, unknown>>;
		assert.is(ls.length, 5);
		const lsText = (await cli(['ls', '--root', r.dir])).stdout;
		for (const s of ['just_created', 'created', 'running', 'exited (3)', 'app:1.0']) assert.ok(lsText.includes(s), s);
		const images = (await cli(['images', '--root', r.dir])).stdout;
		assert.match(images, new RegExp(`app +1\\.0 +${v1.app.slice(0, 12)}`));
		assert.match(images, new RegExp(`busybox +latest +${v1.base.slice(0, 12)}`));
		assert.match(images, new RegExp(`<none> +<none> +${v1.broken.slice(0, 12)} .*dangling`));
		const model = JSON.parse((await cli(['model', '--root', r.dir])).stdout);
		assert.is(model.layout, 'v1');
		assert.is(model.images.length, 3);
		assert.is(model.containers.length, 5);
		const web = JSON.parse((await cli(['inspect', 'web', '--root', r.dir])).stdout);
		assert.is(web.kind, 'container');
		assert.is(web.mountId, v1.running);
		assert.equal(
			web.chain.map((e: {cacheId: string}) => e.cacheId),
			[v1.running, `${v1.running}-init`, v1.base],
		);
		const img = JSON.parse((await cli(['inspect', v1.app.slice(0, 12), '--root', r.dir])).stdout);
		assert.is(img.kind, 'image');
		assert.is(img.id, v1.app);
		assert.equal(JSON.parse((await cli(['inspect', `busybox@${v1.digest}`, '--root', r.dir])).stdout).id, v1.base);
		const check = await cli(['check', '--root', r.dir]);
		assert.is(check.code, 1, 'the three planted errors fail the check');
		assert.match(check.stdout, /3 errors, 0 warnings/);
	} finally {
		r.remove();
	}
});

test.run();
