// The containerd image store (the reference layout notes §6): Docker 24+ (opt-in) and 29 (default) keep images
// in containerd — meta.db namespace moby, content blobs, the overlayfs snapshotter's metadata.db and
// snapshot directories. First, roots built in code (test/helpers/c8d-root.ts) for what a daemon here
// does not make: multi-platform indexes, odd names, leftovers. Then a real dockerd 26 with feature
// containerd-snapshotter (test/helpers/dockerd.ts, driver 'overlayfs'): the standard state
// (test/helpers/real-states.ts) plus containers that add, change and delete files and delete and
// recreate directories; a running container's overlay mount; the model against docker inspect,
// docker image inspect and docker images; diff and export against docker diff and docker export;
// the same root as a tar archive; and damaged copies of it.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {runChecks} from '../../src/checks/index.ts';
import {loadModel, openSource} from '../../src/load.ts';
import type {Model} from '../../src/model/types.ts';
import {familiarRef, goTime, metaDbPath, uvarint, varint} from '../../src/read/containerd/meta-db.ts';
import {
	BLOBS,
	C8dRoot,
	META_DB,
	basicC8dRoot as basicRoot,
	goTimeBytes,
	hexOf,
	sha,
	snapshotterDir,
	uvarintBytes,
	varintBytes,
} from '../helpers/c8d-root.ts';
import {compareContainer} from '../helpers/compare-daemon.ts';
import {cleanup, docker26Available, type Daemon} from '../helpers/dockerd.ts';
import {describe, readTar} from '../helpers/files-compare.ts';
import {ll} from '../helpers/files-run.ts';
import {type Expected, captureExpected} from '../helpers/real-states.ts';
import {sharedDaemon} from '../helpers/shared-state.ts';

const load = (dir: string) => loadModel(openSource(dir));
const snap = (id: string | number): string => `${snapshotterDir('overlayfs')}/snapshots/${id}/fs`;
const noTrace = (s: string): void => assert.not.match(s, /\n\s+at .+:\d+:\d+/, 'no stack trace');

// ---- encodings

test('decoders: uvarint, zigzag varint, Go binary times, familiar references', () => {
	for (const n of [0, 1, 127, 128, 300, 2 ** 40]) assert.is(uvarint(uvarintBytes(n)), n);
	for (const n of [0, 1, -1, 405, -405, 1990656]) assert.is(varint(varintBytes(n)), n);
	assert.is(varint(Buffer.from([0xaa, 0x06])), 405, 'a manifest size as meta.db stores it');
	assert.is(uvarint(Buffer.from([0x80, 0x80])), undefined, 'truncated');
	assert.is(
		goTime(Buffer.from('010000000ee29dc9a50cf96509ffff', 'hex')),
		'2026-11-29T07:22:13.217670921Z',
		'the §6.1 example',
	);
	assert.is(goTime(goTimeBytes('2026-01-02T03:04:05Z')), '2026-01-02T03:04:05Z');
	assert.is(goTime(goTimeBytes('2026-01-02T03:04:05.5Z')), '2026-01-02T03:04:05.5Z');
	assert.is(goTime(Buffer.from([1, 2, 3])), undefined);
	assert.equal(familiarRef('docker.io/library/busybox:latest'), {repo: 'busybox', tag: 'latest'});
	assert.equal(familiarRef('docker.io/local/app:2'), {repo: 'local/app', tag: '2'});
	assert.equal(familiarRef('ghcr.io/acme/tool:1.2'), {repo: 'ghcr.io/acme/tool', tag: '1.2'});
	assert.equal(familiarRef('localhost:5000/x:y'), {repo: 'localhost:5000/x', tag: 'y'});
	assert.equal(familiarRef(`docker.io/library/busybox@sha256:${hexOf('x')}`), {
		repo: 'busybox',
		digest: `sha256:${hexOf('x')}`,
	});
	assert.equal(familiarRef('docker.io/library/a/b:1'), {repo: 'library/a/b', tag: '1'});
	for (const bad of ['', 'a b:1', 'x:\u001b[2J', 'x@nope', ':1']) assert.is(familiarRef(bad), undefined, bad);
});

// ---- roots built in code

test('code-built store: tags as docker shows them, digests, dangling, parent, sizes, chains through snapshot ids', async () => {
	const {r, base, child, ctr, builder} = basicRoot();
	try {
		r.save();
		const {model: m, source, raw} = load(r.dir);
		assert.equal(
			m.findings.filter(f => f.severity !== 'info'),
			[],
		);
		assert.equal(m.drivers, ['overlayfs']);
		const img = m.images.find(i => i.id === base.manifest.digest)!;
		assert.equal(img.tags, ['busybox:latest', 'ghcr.io/acme/tool:2']);
		assert.equal(img.digests, [`busybox@${base.manifest.digest}`, `ghcr.io/acme/tool@${base.manifest.digest}`]);
		assert.is(img.created, '2026-01-02T03:04:05.123456789Z');
		assert.is(img.lastUpdated, '2026-01-03T00:00:00Z', 'the latest updatedat of its records');
		assert.is(img.size, base.manifest.size + base.config.size + 100 + 101, 'manifest + config + layer descriptors');
		assert.is(img.path, `${BLOBS}/${base.manifest.digest.slice(7)}`);
		assert.is(img.architecture, 'amd64');
		const kid = m.images.find(i => i.id === child.manifest.digest)!;
		assert.equal([kid.tags, kid.digests, kid.dangling, kid.parent], [[], [], true, base.manifest.digest]);
		assert.equal(img.children, [child.manifest.digest]);
		const c = m.containers[0]!;
		assert.equal([c.driver, c.mountId, c.initId, c.parentChainId], ['overlayfs', '4', '3', base.chain[1]]);
		assert.equal(
			c.chain.map(e => e.path),
			[snap(4), snap(3), snap(2), snap(1)],
		);
		assert.equal(
			c.chain.map(e => e.role),
			['rw', 'init', 'image', 'image'],
		);
		assert.ok(c.chain.every(e => e.pathExists));
		assert.equal(m.layers.find(l => l.chainId === base.chain[1])!.size, 200);
		// The child's top layer sits on the builder's init snapshot: walked through, never an image layer.
		const init = m.layers.find(l => l.chainId === `${builder}-init`)!;
		assert.equal([init.path, init.diffId, init.images], [snap(5), null, [child.manifest.digest]]);
		assert.ok(m.findings.some(f => f.code === 'layer.init-snapshot' && f.subject === `layer:${builder}-init`));
		assert.is(m.layers.find(l => l.chainId === child.chain[2])!.parent, `${builder}-init`);
		const report = await runChecks({source, raw, model: m});
		assert.equal(
			report.findings.filter(f => f.severity !== 'info').map(f => f.code),
			[],
			'check: clean',
		);
		// REFs: tags, digest references, short ids.
		for (const ref of [
			'busybox',
			'busybox:latest',
			'ghcr.io/acme/tool:2',
			`busybox@${base.manifest.digest}`,
			base.manifest.digest.slice(7, 19),
		]) {
			const out = await ll(['inspect', ref, '--root', r.dir]);
			assert.is(out.code, 0, `${ref}: ${out.stderr}`);
			assert.is(JSON.parse(out.stdout).id, base.manifest.digest, ref);
		}
		const t = await ll(['tree', '--root', r.dir]);
		assert.is(t.code, 0);
		assert.match(t.stdout, new RegExp(`rw     cache 4  ${snap(4).replace(/\./g, '\\.')}`));
		assert.match(t.stdout, /init {3}cache 3 {2}/);
		void ctr;
	} finally {
		r.remove();
	}
});

test('code-built store: an index picks the platform its containers use, else the unpacked one, else says it is ambiguous', async () => {
	const r = new C8dRoot();
	try {
		const amd = r.image([sha('amd')], {arch: 'amd64'});
		const arm = r.image([sha('arm')], {arch: 'arm64'});
		const entry = (m: typeof amd.manifest, arch: string, extra: Record<string, unknown> = {}) => ({
			mediaType: m.mediaType,
			digest: m.digest,
			size: m.size,
			platform: {os: 'linux', architecture: arch},
			...extra,
		});
		const attestation = {
			mediaType: 'application/vnd.oci.image.manifest.v1+json',
			digest: sha('att'),
			size: 5,
			platform: {os: 'unknown', architecture: 'unknown'},
			annotations: {'vnd.docker.reference.type': 'attestation-manifest'},
		};
		const indexType = 'application/vnd.oci.image.index.v1+json';
		const both = r.blob(
			{
				schemaVersion: 2,
				mediaType: indexType,
				manifests: [entry(amd.manifest, 'amd64'), entry(arm.manifest, 'arm64'), attestation],
			},
			indexType,
		);
		const used = r.blob(
			{
				schemaVersion: 2,
				mediaType: indexType,
				manifests: [entry(amd.manifest, 'amd64'), entry(arm.manifest, 'arm64')],
				annotations: {x: 'y'},
			},
			indexType,
		);
		const missingArm = sha('not here');
		const one = r.blob(
			{
				schemaVersion: 2,
				mediaType: indexType,
				manifests: [{...entry(arm.manifest, 'arm64'), digest: missingArm}, entry(amd.manifest, 'amd64')],
			},
			indexType,
		);
		const none = r.blob(
			{
				schemaVersion: 2,
				mediaType: indexType,
				manifests: [
					{...entry(amd.manifest, 'amd64'), digest: sha('gone1')},
					{...entry(arm.manifest, 'arm64'), digest: sha('gone2')},
				],
			},
			indexType,
		);
		r.tag('docker.io/library/both:1', both);
		r.tag('docker.io/library/used:1', used);
		r.tag('docker.io/library/one:1', one);
		r.tag('docker.io/library/none:1', none);
		r.snapshot('overlayfs', {key: amd.chain[0]!, id: 1});
		r.snapshot('overlayfs', {key: arm.chain[0]!, id: 2});
		const ctr = hexOf('arm user');
		r.snapshot('overlayfs', {key: `${ctr}-init`, parent: arm.chain[0]!, id: 3});
		r.snapshot('overlayfs', {key: ctr, parent: `${ctr}-init`, id: 4, kind: 2});
		r.container(ctr, 'armed', used.digest, {manifest: arm.manifest.digest});
		r.save();
		const {model: m} = load(r.dir);
		const byTag = (t: string) => m.images.find(i => i.tags.includes(t))!;
		const f = (id: string) => m.findings.filter(x => x.subject === `image:${id}`).map(x => x.code);
		assert.equal(byTag('both:1').diffIds, [sha('amd')], 'the first unpacked platform');
		assert.equal(f(both.digest), ['image.platform-ambiguous']);
		assert.match(m.findings.find(x => x.code === 'image.platform-ambiguous')!.message, /linux\/amd64, linux\/arm64/);
		assert.equal(byTag('used:1').diffIds, [sha('arm')], "the container's ImageManifest decides");
		assert.equal(f(used.digest), []);
		assert.equal(
			m.containers[0]!.chain.map(e => e.path),
			[snap(4), snap(3), snap(2)],
		);
		assert.equal(
			m.findings.filter(x => x.subject === `container:${ctr}`),
			[],
		);
		assert.equal(byTag('one:1').diffIds, [sha('amd')], 'the only platform present');
		assert.equal(f(one.digest), []);
		assert.equal(byTag('none:1').diffIds, []);
		assert.equal(f(none.digest), ['content.blob-missing']);
		assert.is(
			byTag('both:1').size,
			both.size + amd.manifest.size + amd.config.size + 100,
			'index + one manifest + config + layers',
		);
	} finally {
		r.remove();
	}
});

test('code-built store: missing and leftover snapshots, unmapped records, orphan directories', async () => {
	const {r, base} = basicRoot();
	try {
		// A container whose RW snapshot is gone; a RW snapshot whose container is gone; an unmapped snapshot.
		const lost = hexOf('lost');
		r.container(lost, 'lost', base.manifest.digest);
		const ghost = hexOf('ghost');
		r.snapshot('overlayfs', {key: `${ghost}-init`, parent: base.chain[1]!, id: 7});
		r.snapshot('overlayfs', {key: ghost, parent: `${ghost}-init`, id: 8, kind: 2});
		const unmapped = hexOf('unmapped');
		r.container(unmapped, 'unmapped', base.manifest.digest);
		r.snapshot('overlayfs', {key: unmapped, parent: base.chain[1]!});
		r.extraBackend.overlayfs = [{key: 'moby/90/extract-1-sha256:abc', id: 90, kind: 2}];
		fs.mkdirSync(r.p(`${snapshotterDir('overlayfs')}/snapshots/77/fs`), {recursive: true});
		r.write(`${snapshotterDir('overlayfs')}/snapshots/77/fs/big`, Buffer.alloc(3000));
		r.save();
		const {model: m, source, raw} = load(r.dir);
		const codes = (subject: string) => m.findings.filter(f => f.subject === subject).map(f => f.code);
		assert.equal(codes(`container:${lost}`), ['container.snapshot-missing']);
		assert.equal(codes(`container:${unmapped}`), ['containerd.snapshot-unmapped']);
		const report = await runChecks({source, raw, model: m});
		const got = (code: string) => report.findings.filter(f => f.code === code);
		assert.equal(
			got('orphan.snapshot')
				.map(f => f.subject)
				.sort(),
			[`snapshot:${ghost}`, `snapshot:${ghost}-init`],
		);
		assert.equal(
			got('orphan.snapshot-dir').map(f => f.path),
			[`${snapshotterDir('overlayfs')}/snapshots/77`],
		);
		assert.match(got('orphan.snapshot-dir')[0]!.message, /3\.00kB|3 kB|3000/);
		assert.equal(
			got('leftover.snapshot').map(f => f.severity),
			['info'],
		);
		const mount = report.objects
			.find(o => o.subject === `container:${lost}`)!
			.checks.find(c => c.check === 'container.mount')!;
		assert.equal(
			mount.findings.map(f => f.code),
			['container.snapshot-missing'],
			'claimed by container.mount',
		);
		const out = await ll(['check', '--root', r.dir]);
		assert.is(out.code, 1, 'errors: check exits 1');
		noTrace(out.stderr);
	} finally {
		r.remove();
	}
});

test('code-built store: what cannot be read is one finding each, and the rest is shown', async () => {
	// meta.db absent: the data is in a system containerd's root, outside this root.
	let r = new C8dRoot();
	try {
		r.container(hexOf('a'), 'a', sha('x'));
		let m = load(r.dir).model;
		let f = m.findings.filter(x => x.code === 'layout.containerd-store');
		assert.is(f.length, 1);
		assert.match(
			f[0]!.message,
			/meta\.db is absent.*system containerd.*\/var\/lib\/containerd.*outside this Docker root/,
		);
		assert.match(m.findings.find(x => x.code === 'container.store-missing')!.message, /containerd image store/);
		assert.is(m.containers.length, 1);
		// No namespace moby.
		r.save({namespace: 'k8s.io'});
		m = load(r.dir).model;
		f = m.findings.filter(x => x.code === 'layout.containerd-store');
		assert.match(f[0]!.message, /no namespace "moby"/);
	} finally {
		r.remove();
	}
	// A snapshotter layerlens does not read, beside one it reads.
	const b = basicRoot();
	r = b.r;
	try {
		r.snapshot('stargz', {key: sha('s'), id: 1});
		r.save();
		const m = load(r.dir).model;
		assert.equal(
			m.findings.filter(x => x.code === 'layout.containerd-store').map(x => x.message.replace(/\(.*\)/, '()')),
			[
				'the containerd snapshotter "stargz" () is not read by layerlens: its images\' layers and its containers\' chains are not shown',
			],
		);
		assert.is(m.containers[0]!.chain.length, 4, 'the overlayfs container is still linked');
	} finally {
		r.remove();
	}
	// The snapshotter's metadata.db missing: the directories are unknown, the ids and chains are not.
	const c = basicRoot();
	r = c.r;
	try {
		r.save({skipSnapshotterDb: ['overlayfs']});
		const m = load(r.dir).model;
		const missing = m.findings.filter(x => x.code === 'file.missing');
		assert.equal(
			missing.map(x => [x.subject, x.path]),
			[['store:overlayfs', `${snapshotterDir('overlayfs')}/metadata.db`]],
		);
		const ctr = m.containers[0]!;
		assert.ok(
			ctr.chain.length === 2 && ctr.chain.every(e => e.role === 'image' && e.path === null && e.chainId !== undefined),
			'the image layers, without directories',
		);
		assert.is(m.images.length, 2);
		assert.ok(m.layers.every(l => l.path === null));
		const d = await ll(['diff', 'web', '--root', r.dir]);
		assert.is(d.code, 2, 'diff cannot build the view: usage error, one line');
		noTrace(d.stderr);
	} finally {
		r.remove();
	}
});

// ---- a real dockerd 26 in containerd mode

/** An image whose layers add, delete and recreate files and directories (busybox's applets through `busybox <applet>`). */
const DOCKERFILE = [
	'FROM local/busybox:1',
	'RUN mkdir -p /d1/sub /d2 /keep /opq/inner /gone && echo a > /d1/a && echo b > /d1/sub/b && echo c > /d2/c && echo k > /keep/k && echo m > /mod.txt && busybox ln -s /etc/passwd /link && echo o > /opq/o && echo g > /gone/g',
	'RUN rm -r /d2 /gone && rm /bin/cat',
	'RUN mkdir /d2 && echo new > /d2/new && busybox chmod 750 /d1',
	'',
].join('\n');

/** Containers and what each runs (null: created, never started). */
const SCENARIOS: Record<string, string | null> = {
	c_add:
		'echo x > /new.txt; mkdir -p /deep/a/b && echo z > /deep/a/b/z; echo more >> /mod.txt; busybox chmod 600 /d1/a; echo s > /d1/sub/b2',
	c_del: 'rm /keep/k /link; rm -r /d1/sub; rm /bin/ls',
	c_recreate: 'rm -r /d1 && mkdir /d1 && echo n > /d1/n; rm -r /opq && mkdir /opq; rm -r /d2 && mkdir /d2',
	c_replace: 'rm /mod.txt && mkdir /mod.txt && echo i > /mod.txt/in; rm -r /keep && echo f > /keep',
	c_empty: 'true',
	c_created: null,
};

type State = {
	daemon: Daemon;
	root: string;
	out: string;
	tar: string;
	expected: Expected;
	diffs: Record<string, string[]>;
	exports: Record<string, string>;
	/** The running container: its overlay mount (upperdir, then lowerdir), relative to the root, and its chain read from the live root. */
	mount: {id: string; dirs: string[]; chain: Array<string | null>; status: string | null; findings: string[]};
	build: number;
};

let state: State | undefined;
const avail = docker26Available();

async function makeState(): Promise<State> {
	const t0 = Date.now();
	// The standard state (made once per run), on a daemon of this suite's own.
	const {daemon} = await sharedDaemon('overlayfs');
	try {
		const d = daemon.docker;
		const out = path.join(daemon.dir, 'out');
		const ctx = path.join(out, 'ctx');
		fs.mkdirSync(ctx, {recursive: true});
		fs.writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);
		d(['build', '-q', '-t', 'local/files:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
		const diffs: Record<string, string[]> = {};
		const exports: Record<string, string> = {};
		for (const [name, script] of Object.entries(SCENARIOS)) {
			if (script === null) d(['create', '--name', name, 'local/files:1', 'true']);
			else d(['run', '--name', name, '--network', 'none', 'local/files:1', 'sh', '-c', script]);
			diffs[name] = d(['diff', name])
				.split('\n')
				.filter(l => l !== '');
			exports[name] = path.join(out, `${name}.docker.tar`);
			d(['export', '-o', exports[name]!, name]);
		}
		// A running container of a built image: its rootfs is an overlay mount the snapshotter made.
		d(['run', '-d', '--name', 'runner', '--network', 'none', 'local/files:1', 'sleep', '1000']);
		const id = d(['inspect', '-f', '{{.Id}}', 'runner']).trim();
		const target = `${daemon.root}/rootfs/overlayfs/${id}`;
		const line = fs
			.readFileSync('/proc/mounts', 'utf8')
			.split('\n')
			.find(
				l =>
					l.split(' ')[1]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) === target,
			);
		if (line === undefined) throw new Error(`no mount at ${target}`);
		const opts = new Map(
			line
				.split(' ')[3]!
				.split(',')
				.map(o => [o.slice(0, o.indexOf('=') < 0 ? o.length : o.indexOf('=')), o.slice(o.indexOf('=') + 1)]),
		);
		const rel = (p: string) => path.relative(daemon.root, p);
		const dirs = [rel(opts.get('upperdir')!), ...opts.get('lowerdir')!.split(':').map(rel)];
		// Read the live root (read-only, as always) while the container runs.
		const live = load(daemon.root).model;
		const c = live.containers.find(x => x.id === id)!;
		const mount = {
			id,
			dirs,
			chain: c.chain.map(e => e.path),
			status: c.status,
			findings: live.findings.filter(f => f.severity !== 'info').map(f => `${f.code} ${f.message}`),
		};
		d(['stop', '-t', '1', 'runner']);
		const e = captureExpected(daemon);
		const expected = {
			driver: 'overlayfs' as const,
			root: daemon.root,
			...e,
			logs: {},
			facts: {busyboxImageId: '', appImageId: '', danglingImageId: '', containerIds: {}},
			notes: [],
		};
		await daemon.stop();
		// The same root as an archive, xattrs kept (opaque directories are trusted.overlay.opaque).
		const tar = path.join(out, 'root.tar');
		execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-C', daemon.root, '-cf', tar, '.']);
		return {daemon, root: daemon.root, out, tar, expected, diffs, exports, mount, build: Date.now() - t0};
	} catch (e) {
		await cleanup(daemon);
		throw e;
	}
}

const unique = (xs: string[]) => [...new Set(xs)].sort();

if (!avail.ok) {
	test('containerd store with a real dockerd 26 (needs root, dockerd, scripts/fetch-docker26.sh)', () => {
		if (process.env.CI) assert.unreachable(`dockerd 26 cannot run in CI: ${avail.why}`);
		console.log(`  skip: containerd store e2e: ${avail.why}`);
	});
} else {
	test.before(async () => {
		state = await makeState();
	});
	test.after(async () => {
		if (state !== undefined) await cleanup(state.daemon);
	});

	test('dockerd 26: containers equal docker inspect (id, name, image, state, times, driver, config)', () => {
		const s = state!;
		const m = load(s.root).model;
		assert.equal(m.drivers, ['overlayfs']);
		assert.equal(m.containers.map(c => c.id).sort(), s.expected.containers.map(c => c.Id).sort());
		for (const c of s.expected.containers) {
			const mine = m.containers.find(x => x.id === c.Id)!;
			const who = String(c.Name);
			compareContainer(mine, c, who);
			assert.equal(mine.config, c.Config, `${who} Config`);
			const image = s.expected.images.find(i => i.Id === c.Image);
			assert.equal(mine.imageTags, [...image.RepoTags].sort(), `${who} image tags`);
		}
	});

	test('dockerd 26: images equal docker image inspect and docker images -a (tags, digests, layers, size, parent, dangling)', () => {
		const s = state!;
		const m = load(s.root).model;
		assert.equal(m.images.map(i => i.id).sort(), unique(s.expected.imagesList.map(i => i.ID)), 'docker images -a');
		assert.equal(m.images.map(i => i.id).sort(), s.expected.images.map(i => i.Id).sort());
		for (const i of s.expected.images) {
			const mine = m.images.find(x => x.id === i.Id)!;
			const who = `${i.Id.slice(7, 19)} ${i.RepoTags.join(',')}`;
			assert.equal(mine.tags, [...i.RepoTags].sort(), `${who} RepoTags`);
			// dockerd 26 repeats repo@digest once per tag of the same repository; the model lists each once.
			assert.equal(mine.digests, unique(i.RepoDigests), `${who} RepoDigests`);
			assert.equal(mine.diffIds, i.RootFS.Layers, `${who} RootFS.Layers`);
			assert.is(mine.created, i.Created, `${who} Created`);
			assert.is(mine.size, i.Size, `${who} Size`);
			assert.is(mine.parent, i.Parent === '' ? null : i.Parent, `${who} Parent`);
			assert.is(mine.lastUpdated, i.Metadata.LastTagTime, `${who} LastTagTime`);
			assert.is(mine.driver, i.GraphDriver.Name, `${who} GraphDriver.Name`);
			assert.equal([mine.architecture, mine.os], [i.Architecture, i.Os], `${who} platform`);
			// docker image inspect fills in every field of Config with its zero value; the config blob has only those set.
			const set = Object.fromEntries(
				Object.entries(i.Config ?? {}).filter(
					([, v]) => !(v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0)),
				),
			);
			assert.equal(mine.config ?? {}, set, `${who} Config`);
			// docker images' VirtualSize: the content plus the disk usage the snapshotter recorded for every snapshot
			// below the top layer, build-init snapshots included (Size + each walked layer's size).
			const row = s.expected.imagesList.find(r => r.ID === i.Id)!;
			let usage = 0;
			for (
				let l = m.layers.find(x => x.chainId === mine.chainIds.at(-1));
				l !== undefined;
				l = m.layers.find(x => x.chainId === l!.parent)
			)
				usage += l.size!;
			assert.is(
				((mine.size! + usage) / 1e6).toFixed(3),
				String(row.VirtualSize).replace(/MB$/, ''),
				`${who} VirtualSize`,
			);
		}
		assert.equal(
			m.images
				.filter(i => i.dangling)
				.map(i => i.id)
				.sort(),
			unique(s.expected.danglingIds),
			'dangling = docker images --filter dangling=true',
		);
		const hidden = s.expected.images
			.map(i => i.Id)
			.filter(id => !s.expected.topLevelIds.includes(id))
			.sort();
		assert.equal(
			m.images
				.filter(i => i.intermediate)
				.map(i => i.id)
				.sort(),
			hidden,
			'intermediate = in docker images -a only',
		);
	});

	test('dockerd 26: chains — every directory exists, image layers = RootFS.Layers, the running container = its overlay mount', () => {
		const s = state!;
		const m = load(s.root).model;
		for (const c of m.containers) {
			assert.ok(c.chain.length >= 3, `${c.name}: RW, init, layers`);
			assert.equal(
				c.chain.slice(0, 2).map(e => e.role),
				['rw', 'init'],
			);
			for (const e of c.chain) {
				assert.ok(e.pathExists && fs.statSync(path.join(s.root, e.path!)).isDirectory(), `${c.name}: ${e.path}`);
				assert.match(e.path!, /^containerd\/daemon\/io\.containerd\.snapshotter\.v1\.overlayfs\/snapshots\/\d+\/fs$/);
			}
			const image = s.expected.images.find(i => i.Id === c.imageId);
			const layers = c.chain.filter(e => e.role === 'image' && e.diffId !== null).map(e => e.diffId);
			assert.equal(layers.reverse(), image.RootFS.Layers, `${c.name}: the image's layers`);
		}
		// While it ran: the chain read from the live root is what the snapshotter mounted (upperdir, then lowerdir),
		// including the build containers' init snapshots the layers were committed on.
		assert.equal(s.mount.chain, s.mount.dirs, 'chain = upperdir + lowerdir');
		assert.ok(
			s.mount.dirs.length >
				2 +
					s.expected.images.find(i => i.Id === m.containers.find(c => c.id === s.mount.id)!.imageId).RootFS.Layers
						.length,
			'the mount holds build-init snapshots too',
		);
		assert.is(s.mount.status, 'running');
		assert.equal(s.mount.findings, [], 'the live root has no error or warning');
		const inits = m.layers.filter(l => /-init$/.test(l.chainId));
		assert.ok(
			inits.length > 0 && inits.every(l => l.diffId === null && l.images.length > 0),
			'build-init snapshots are walked through',
		);
	});

	test('dockerd 26: diff = docker diff, export = docker export, cat and files work (directory and archive)', async () => {
		const s = state!;
		for (const root of [s.root, s.tar]) {
			for (const name of Object.keys(SCENARIOS)) {
				const who = `${name} (${root === s.tar ? 'archive' : 'directory'})`;
				const d = await ll(['diff', name, '--json', '--root', root]);
				assert.is(d.code, 0, `${who}: ${d.stderr}`);
				const got = JSON.parse(d.stdout) as {changes: Array<{kind: string; path: string}>; findings: unknown[]};
				assert.equal(
					got.changes.map(c => `${c.kind} ${c.path}`).sort(),
					[...s.diffs[name]!].sort(),
					`${who}: diff = docker diff`,
				);
				assert.equal(got.findings, [], `${who}: no findings`);
				const tar = path.join(s.out, `${name}.layerlens.tar`);
				const e = await ll(['export', name, '-o', tar, '--root', root]);
				assert.is(e.code, 0, `${who}: ${e.stderr}`);
				assert.equal(describe(readTar(tar)), describe(readTar(s.exports[name]!)), `${who}: export = docker export`);
			}
			const cat = await ll(['cat', 'c_add', '/mod.txt', '--root', root]);
			assert.is(cat.stdout, 'm\nmore\n');
			const img = await ll(['cat', 'local/files:1', '/d2/new', '--root', root]);
			assert.is(img.stdout, 'new\n', 'an image view');
			const f = await ll(['files', 'c_recreate', '--json', '--root', root]);
			const listed = (JSON.parse(f.stdout) as {entries: Array<{path: string}>}).entries
				.map(x => x.path.slice(1))
				.sort();
			assert.equal(
				listed,
				[...readTar(path.join(s.out, 'c_recreate.layerlens.tar')).keys()].sort(),
				'files lists what export writes',
			);
			// The RW layer alone: the kernel marks recreated directories opaque.
			const m = load(s.root).model;
			const rw = m.containers.find(c => c.name === 'c_recreate')!.chain[0]!.cacheId!;
			const own = await ll(['files', rw, '--json', '--root', root]);
			const status = new Map(
				(JSON.parse(own.stdout) as {entries: Array<{path: string; status: string}>}).entries.map(x => [
					x.path,
					x.status,
				]),
			);
			assert.equal([status.get('/d1'), status.get('/d1/n'), status.get('/opq')], ['opaque', 'added', 'opaque']);
		}
	});

	test('dockerd 26: check is clean; tree, images, inspect work; the archive gives the same model', async () => {
		const s = state!;
		const c = await ll(['check', '--json', '--root', s.root]);
		assert.is(c.code, 0, c.stderr);
		const report = JSON.parse(c.stdout) as {
			summary: {error: number; warning: number};
			findings: Array<{severity: string; code: string}>;
		};
		assert.equal(
			report.findings.filter(f => f.severity !== 'info'),
			[],
			'no error or warning',
		);
		assert.ok(
			report.findings.every(f => ['layer.init-snapshot', 'image.dangling'].includes(f.code)),
			report.findings.map(f => f.code).join(' '),
		);
		const deep = await ll(['check', '--deep', '--root', s.root]);
		assert.is(deep.code, 0, deep.stderr);
		// images: one row per tag as docker images -a prints them; ls: the containers of docker ps -a.
		const images = await ll(['images', '--root', s.root]);
		const rows = images.stdout.trim().split('\n').slice(1);
		assert.is(rows.length, s.expected.imagesList.length, 'one row per docker images -a row');
		for (const r of s.expected.imagesList)
			assert.ok(
				rows.some(
					l => l.startsWith(`${r.Repository} `) && l.includes(` ${r.Tag} `) && l.includes(String(r.ID).slice(7, 19)),
				),
				`${r.Repository}:${r.Tag}`,
			);
		const ls = JSON.parse((await ll(['ls', '--json', '--root', s.root])).stdout) as Array<{
			id: string;
			name: string;
			status: string;
		}>;
		assert.equal(
			ls.map(c => [c.id, c.name]).sort(),
			s.expected.ps.map(c => [c.ID, c.Names]).sort(),
			'ls = docker ps -a',
		);
		for (const args of [['tree'], ['ls'], ['inspect', 'c_add'], ['inspect', 'local/app:1'], ['graph'], ['timeline']]) {
			const out = await ll([...args, '--root', s.root]);
			assert.is(out.code, 0, `${args.join(' ')}: ${out.stderr}`);
		}
		const fromDir = JSON.parse((await ll(['model', '--root', s.root])).stdout) as Model;
		const fromTar = JSON.parse((await ll(['model', '--root', s.tar])).stdout) as Model;
		assert.equal({...fromTar, root: ''}, {...fromDir, root: ''}, 'archive = directory');
		const tree = await ll(['tree', '--root', s.tar]);
		assert.is(tree.stdout.replace(s.tar, 'R'), (await ll(['tree', '--root', s.root])).stdout.replace(s.root, 'R'));
	});

	/** A copy of the root (the daemon is stopped), broken by `breakIt`; returns the model and the CLI's tree and check runs. */
	async function damaged(breakIt: (dir: string, m: Model) => void, more?: (dir: string) => Promise<void>) {
		const s = state!;
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-c8d-damaged-'));
		try {
			execFileSync('cp', ['-a', `${s.root}/.`, dir]);
			breakIt(dir, load(s.root).model);
			const {model} = load(dir);
			const tree = await ll(['tree', '--root', dir]);
			const check = await ll(['check', '--root', dir]);
			noTrace(tree.stderr);
			noTrace(check.stderr);
			assert.is(tree.code, 0, 'tree reads a damaged root (exit 0)');
			await more?.(dir);
			return {model, tree, check};
		} finally {
			fs.rmSync(dir, {recursive: true, force: true});
		}
	}

	test('dockerd 26 damaged: meta.db truncated or corrupt → db findings, containers still listed', async () => {
		const s = state!;
		const n = s.expected.containers.length;
		let r = await damaged(dir => fs.truncateSync(path.join(dir, metaDbPath), 100));
		assert.ok(
			r.model.findings.some(f => f.code === 'db.invalid' && f.path === metaDbPath),
			'db.invalid',
		);
		assert.is(r.model.containers.length, n);
		assert.ok(r.model.findings.filter(f => f.code === 'container.store-missing').length === n);
		assert.is(r.check.code, 1, 'check: errors → exit 1');
		// Overwrite every page after the meta pages: the pages cannot be read, the meta pages can.
		r = await damaged(dir => {
			const p = path.join(dir, metaDbPath);
			const b = fs.readFileSync(p);
			for (let i = 8192; i < b.length; i++) b[i] = (i * 131) & 0xff;
			fs.writeFileSync(p, b);
		});
		assert.ok(
			r.model.findings.some(f => f.code === 'db.damaged' || f.code === 'db.invalid'),
			r.model.findings.map(f => f.code).join(' '),
		);
		assert.is(r.model.containers.length, n);
		assert.is(r.check.code, 1);
	});

	test('dockerd 26 damaged: a manifest or config blob missing or altered → content findings naming it', async () => {
		const s = state!;
		const app = s.expected.images.find(i => i.RepoTags.includes('local/app:1')).Id as string;
		let r = await damaged(dir => fs.rmSync(path.join(dir, BLOBS, app.slice(7))));
		let f = r.model.findings.filter(x => x.subject === `image:${app}`);
		assert.equal(
			f.map(x => x.code),
			['content.blob-missing'],
		);
		assert.match(f[0]!.message, /manifest .* \(the image id\) is not in the content store/);
		assert.ok(
			r.model.containers.filter(c => c.imageId === app).every(c => c.chain.length > 3),
			'its containers keep their chains (from the snapshots)',
		);
		assert.equal(
			r.model.findings.filter(x => x.severity === 'error' && x.subject !== `image:${app}`),
			[],
			'nothing else breaks',
		);
		assert.is(r.check.code, 1);
		// The config altered (still JSON): the check names it.
		const busybox = s.expected.images.find(i => i.RepoTags.includes('local/busybox:1'));
		const manifest = JSON.parse(fs.readFileSync(path.join(s.root, BLOBS, busybox.Id.slice(7)), 'utf8'));
		const config = manifest.config.digest as string;
		r = await damaged(dir => {
			const p = path.join(dir, BLOBS, config.slice(7));
			fs.chmodSync(p, 0o644);
			fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('"os":"linux"', '"os":"linuX"'));
		});
		assert.match(r.check.stdout, /content\.blob-mismatch/);
		assert.match(r.check.stdout, new RegExp(`config blob ${config.slice(7, 19)}`));
		assert.is(r.check.code, 1);
		// The config missing.
		r = await damaged(dir => fs.rmSync(path.join(dir, BLOBS, config.slice(7))));
		f = r.model.findings.filter(x => x.subject === `image:${busybox.Id}`);
		assert.equal(
			f.map(x => x.code),
			['content.blob-missing'],
		);
		assert.match(f[0]!.message, /config/);
	});

	test('dockerd 26 damaged: a snapshot directory missing, an orphan one, the snapshotter metadata.db missing, meta.db absent', async () => {
		const s = state!;
		const m0 = load(s.root).model;
		const busyboxLayer = m0.images.find(i => i.tags.includes('local/busybox:1'))!.chainIds[0]!;
		const layer = m0.layers.find(l => l.chainId === busyboxLayer)!;
		let r = await damaged(
			dir => fs.rmSync(path.join(dir, layer.path!.replace(/\/fs$/, '')), {recursive: true}),
			async dir => {
				const d = await ll(['diff', 'c_add', '--root', dir]);
				assert.is(d.code, 2, 'diff: its view cannot be built (one line, exit 2)');
				assert.match(d.stderr, /missing/);
				noTrace(d.stderr);
			},
		);
		assert.ok(r.model.findings.some(f => f.code === 'layer.dir-missing' && f.subject === `layer:${busyboxLayer}`));
		assert.ok(
			r.model.findings.some(f => f.code === 'container.layer-dir-missing') === false,
			'RW and init dirs are fine',
		);
		assert.is(r.model.containers.length, s.expected.containers.length);
		r = await damaged(dir =>
			fs.mkdirSync(path.join(dir, snapshotterDir('overlayfs'), 'snapshots', '99999', 'fs'), {recursive: true}),
		);
		assert.match(r.check.stdout, /orphan\.snapshot-dir/);
		assert.is(r.check.code, 0, 'a warning: exit 0 at the default --fail-on error');
		r = await damaged(dir => fs.rmSync(path.join(dir, snapshotterDir('overlayfs'), 'metadata.db')));
		assert.ok(r.model.findings.some(f => f.code === 'file.missing' && f.subject === 'store:overlayfs'));
		assert.is(r.model.images.length, s.expected.images.length, 'images still read');
		assert.is(r.check.code, 1);
		r = await damaged(dir => fs.rmSync(path.join(dir, META_DB)));
		assert.equal(r.model.findings.filter(f => f.code === 'layout.containerd-store').length, 1);
		assert.match(r.tree.stdout, /outside this Docker root/);
		assert.is(r.model.containers.length, s.expected.containers.length);
	});
}

test.run();
