// Teaching features end to end against a real dockerd (Debian's docker.io, as root, temp data roots):
// - provenance: containers created with known flags (-e, -w, -u, --entrypoint, --hostname, -l, -v, -p,
//   --restart, a command) on vfs, overlay2 and fuse-overlayfs; every mark checked;
// - explain: every path `inspect --explain` names for a container that ran exists in the real root, per driver;
// - compare: snapshots (cp -a of the stopped daemon's root) right before and after docker create, start, rm
//   and build, plus one snapshot as a .tar.gz, compared;
// - watch: a live root followed while docker create, start and rm run.
import {execFileSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {parseCommandLine} from '../../src/args.ts';
import {run} from '../../src/cli.ts';
import {watchCommand} from '../../src/commands/watch.ts';
import {DRIVERS, type Daemon, type Driver, cleanup, dockerdAvailable, startDockerd} from '../helpers/dockerd.ts';
import {busyboxRootfsTar} from '../helpers/real-states.ts';

type Out = {code: number; stdout: string; stderr: string};

/** Runs the CLI in this process (the built CLI is tested by test/unit/cli.ts; this keeps the dockerd tests independent of a build). */
async function ll(args: string[]): Promise<Out> {
	let stdout = '';
	let stderr = '';
	const code = await run(args, {
		stdout: {write: (s: string) => (stdout += s)},
		stderr: {write: (s: string) => (stderr += s)},
		env: {},
	});
	return {code, stdout, stderr};
}

async function llJson(args: string[]): Promise<any> {
	const r = await ll(args);
	assert.is(r.code, 0, `layerlens ${args.join(' ')}: ${r.stderr}`);
	return JSON.parse(r.stdout);
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** A tiny image from busybox-static (docker import), then a classic build with every config field the provenance test needs. */
function makeImages(daemon: Daemon): {work: string} {
	const work = path.join(daemon.dir, 'work'); // outside the data root
	const rootfs = path.join(work, 'rootfs');
	daemon.docker(['import', '-', 'local/busybox:1'], {
		input: busyboxRootfsTar(rootfs, ['sh', 'echo', 'true', 'rm', 'cat']),
	});
	const ctx = path.join(work, 'ctx');
	fs.mkdirSync(ctx, {recursive: true});
	fs.writeFileSync(
		path.join(ctx, 'Dockerfile'),
		[
			'FROM local/busybox:1',
			'ENV FOO=bar KEEP=1',
			'WORKDIR /app',
			'USER 1000',
			'LABEL a=b c=d',
			'EXPOSE 8080',
			'VOLUME /vol',
			'CMD ["sh"]',
			'',
		].join('\n'),
	);
	daemon.docker(['build', '-q', '-t', 'local/prov:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
	fs.mkdirSync(path.join(work, 'hostdir'), {recursive: true});
	return {work};
}

function createContainers(daemon: Daemon, work: string): void {
	const d = daemon.docker;
	d(['create', '--name', 'plain', 'local/prov:1']);
	d([
		'create',
		'--name',
		'flags',
		'-e',
		'FOO=override',
		'-e',
		'NEW=1',
		'-w',
		'/tmp',
		'-u',
		'123',
		'--hostname',
		'myhost',
		'-l',
		'mine=yes',
		'-l',
		'a=changed',
		'-v',
		'/data',
		'-v',
		`${path.join(work, 'hostdir')}:/mnt:ro`,
		'--restart',
		'on-failure:3',
		'-p',
		'9000:8080',
		'local/prov:1',
		'echo',
		'hi',
	]);
	d(['create', '--name', 'ep', '--entrypoint', '/bin/echo', 'local/prov:1']);
	d(['create', '-it', '--name', 'it', 'local/busybox:1', 'sh']);
	d(['run', '--name', 'ran', 'local/busybox:1', 'sh', '-c', 'echo hi > /new.txt; rm /bin/cat']);
}

type Mark = {
	field: string;
	key: string | null;
	value?: unknown;
	origin: string;
	imageValue?: unknown;
	note: string | null;
};

function mark(p: {config: Mark[]}, field: string, key: string | null = null): Mark {
	const m = p.config.find(x => x.field === field && x.key === key);
	assert.ok(m, `a mark for ${field}${key === null ? '' : ` ${key}`}`);
	return m!;
}

async function checkProvenance(root: string, driver: Driver): Promise<void> {
	const at = (name: string) => llJson(['inspect', name, '--provenance', '--json', '--root', root]);
	// Nothing given: everything from the image, the host name from the daemon.
	const plain = await at('plain');
	assert.ok(plain.image.known);
	for (const [f, k] of [
		['Cmd', null],
		['WorkingDir', null],
		['User', null],
		['Env', 'FOO'],
		['Env', 'KEEP'],
		['Env', 'PATH'],
		['Labels', 'a'],
		['Labels', 'c'],
		['ExposedPorts', '8080/tcp'],
		['Volumes', '/vol'],
	] as const) {
		assert.is(mark(plain, f, k).origin, 'image', `${driver} plain ${f} ${k ?? ''}`);
	}
	assert.is(mark(plain, 'Hostname').origin, 'daemon');
	assert.is(mark(plain, 'Image').origin, 'user');
	assert.is(mark(plain, 'Tty').origin, 'default');
	assert.is(mark(plain, 'Entrypoint').origin, 'default');
	assert.equal(
		plain.host.filter((h: {origin: string}) => h.origin === 'user').map((h: {field: string}) => h.field),
		[],
		'no host setting given',
	);
	assert.ok(plain.host.some((h: {field: string; origin: string}) => h.field === 'LogConfig' && h.origin === 'daemon'));

	// Every known flag.
	const f = await at('flags');
	assert.equal(
		[mark(f, 'Env', 'FOO').origin, mark(f, 'Env', 'FOO').value, mark(f, 'Env', 'FOO').imageValue],
		['user', 'FOO=override', 'FOO=bar'],
		'-e replacing an image value',
	);
	assert.is(mark(f, 'Env', 'NEW').origin, 'user', '-e adding a variable');
	assert.is(mark(f, 'Env', 'KEEP').origin, 'image', 'untouched image variable');
	assert.is(mark(f, 'Env', 'PATH').origin, 'image');
	assert.equal(
		[mark(f, 'WorkingDir').origin, mark(f, 'WorkingDir').value, mark(f, 'WorkingDir').imageValue],
		['user', '/tmp', '/app'],
		'-w',
	);
	assert.equal(
		[mark(f, 'User').origin, mark(f, 'User').value, mark(f, 'User').imageValue],
		['user', '123', '1000'],
		'-u',
	);
	assert.equal([mark(f, 'Hostname').origin, mark(f, 'Hostname').value], ['user', 'myhost'], '--hostname');
	assert.equal(
		[
			mark(f, 'Labels', 'mine').origin,
			mark(f, 'Labels', 'a').origin,
			mark(f, 'Labels', 'a').imageValue,
			mark(f, 'Labels', 'c').origin,
		],
		['user', 'user', 'b', 'image'],
		'-l',
	);
	assert.is(mark(f, 'Volumes', '/data').origin, 'user', '-v /data (anonymous volume)');
	assert.is(mark(f, 'Volumes', '/vol').origin, 'image');
	assert.equal(
		[mark(f, 'Cmd').origin, mark(f, 'Cmd').value, mark(f, 'Cmd').imageValue],
		['user', ['echo', 'hi'], ['sh']],
		'a command',
	);
	assert.match(mark(f, 'ExposedPorts', '8080/tcp').note ?? '', /published with -p/);
	const hostSet = Object.fromEntries(
		f.host
			.filter((h: {origin: string}) => h.origin === 'user')
			.map((h: {field: string; value: unknown}) => [h.field, h.value]),
	);
	assert.equal(
		Object.keys(hostSet).sort(),
		['Binds', 'PortBindings', 'RestartPolicy'],
		'the host settings given, apart from the defaults',
	);
	assert.equal(hostSet.Binds, [`${path.join(path.dirname(root), 'work', 'hostdir')}:/mnt:ro`]);
	assert.equal(hostSet.RestartPolicy, {Name: 'on-failure', MaximumRetryCount: 3});

	// --entrypoint: the image's Cmd is dropped.
	const ep = await at('ep');
	assert.equal([mark(ep, 'Entrypoint').origin, mark(ep, 'Entrypoint').value], ['user', ['/bin/echo']]);
	assert.equal([mark(ep, 'Cmd').origin, mark(ep, 'Cmd').imageValue], ['user', ['sh']]);
	assert.match(mark(ep, 'Cmd').note ?? '', /--entrypoint/);

	// -it on an imported image (no config of its own).
	const it = await at('it');
	for (const field of ['Tty', 'OpenStdin', 'AttachStdin', 'StdinOnce'])
		assert.is(mark(it, field).origin, 'user', `-it ${field}`);
	assert.is(mark(it, 'Cmd').origin, 'user', 'imported image has no Cmd');

	// The text form marks the same, and the JSON form of inspect is unchanged without the flag.
	const text = await ll(['inspect', 'flags', '--provenance', '--root', root]);
	assert.is(text.code, 0);
	assert.match(text.stdout, /\s+user\s+FOO=override\s+replaces the image's value; image: FOO=bar/);
	assert.match(text.stdout, /WorkingDir\s+user\s+\/tmp/);
	assert.match(text.stdout, /set in the create request: 3\n\s+Binds/);
	const bad = await ll(['inspect', 'local/prov:1', '--provenance', '--root', root]);
	assert.is(bad.code, 2, '--provenance on an image is a usage error');
}

/** Paths that `inspect --explain` names must exist on a real root of that driver. */
async function checkExplain(root: string, driver: Driver): Promise<void> {
	const j = await llJson(['inspect', 'ran', '--explain', '--json', '--root', root]);
	const notes: Array<{label: string; optional?: boolean}> = j.explain.flatMap(
		(s: {notes: Array<{label: string}>}) => s.notes,
	);
	const labels = notes.map(n => n.label);
	const paths = notes
		.filter(n => n.optional !== true && /^(containers|image|overlay2|fuse-overlayfs|vfs)\//.test(n.label))
		.map(n => n.label);
	assert.ok(paths.length >= 10, `${driver}: explained paths`);
	const missing = paths.filter(p => !fs.existsSync(path.join(root, p)));
	assert.equal(missing, [], `${driver}: every explained path exists`);
	assert.ok(paths.some(p => p.includes('/layerdb/mounts/') && p.endsWith('/init-id')));
	if (driver === 'vfs')
		assert.not.ok(
			labels.some(l => l.endsWith('/merged/')),
			'vfs has no union mount point',
		);
	else {
		const merged = labels.find(l => l.endsWith('/merged/'))!;
		assert.ok(merged, `${driver}: the merged/ mount point is explained`);
		assert.not.ok(
			fs.existsSync(path.join(root, merged)),
			`${driver}: no merged/ at rest: the driver removes it when the container stops`,
		);
	}
	const text = await ll(['tree', 'ran', '--explain', '--root', root]);
	assert.match(text.stdout, new RegExp(`RW layer \\(${driver}\\)`));
	assert.match(text.stdout, /etc\/mtab\n\s+a symlink to \/proc\/mounts/);
	assert.match(
		text.stdout,
		driver === 'vfs'
			? /no deletion markers/
			: driver === 'fuse-overlayfs'
				? /fuse-overlayfs mount/
				: /character device 0:0/,
	);
}

const avail = dockerdAvailable();

if (!avail.ok) {
	test('teaching features with a real dockerd (needs root + dockerd)', () => {
		if (process.env.CI) assert.unreachable(`dockerd harness cannot run in CI: ${avail.why}`);
		console.log(`  skip: dockerd harness: ${avail.why}`);
	});
} else {
	for (const driver of DRIVERS) {
		test(`provenance and explanations on ${driver}: containers created with known flags`, async () => {
			const t0 = Date.now();
			const daemon = await startDockerd({driver});
			try {
				const {work} = makeImages(daemon);
				createContainers(daemon, work);
				await daemon.stop();
				await checkProvenance(daemon.root, driver);
				await checkExplain(daemon.root, driver);
			} finally {
				await cleanup(daemon);
			}
			console.log(`  ${driver}: ${Date.now() - t0} ms`);
		});
	}

	test('compare: snapshots right before and after docker create, start, rm and build (overlay2)', async () => {
		const t0 = Date.now();
		let daemon = await startDockerd({driver: 'overlay2'});
		const dir = daemon.dir;
		const snaps = path.join(dir, 'snaps'); // beside the data root, never under it
		fs.mkdirSync(snaps);
		const snap = async (name: string) => {
			await daemon.stop();
			execFileSync('cp', ['-a', daemon.root, path.join(snaps, name)]);
			daemon = await startDockerd({driver: 'overlay2', dir});
		};
		try {
			const {work} = makeImages(daemon);
			await snap('0-images');
			daemon.docker(['create', '--name', 'web', 'local/busybox:1', 'sh', '-c', 'echo hi > /new.txt']);
			await snap('1-created');
			daemon.docker(['start', '-a', 'web']);
			await snap('2-started');
			daemon.docker(['rm', 'web']);
			await snap('3-removed');
			const ctx = path.join(work, 'ctx2');
			fs.mkdirSync(ctx);
			fs.writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM local/busybox:1\nRUN echo built > /built.txt\nENV X=1\n');
			daemon.docker(['build', '-q', '-t', 'local/built:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
			await snap('4-built');
			await daemon.stop();
			const s = (n: string) => path.join(snaps, n);
			const cmp = (a: string, b: string) => llJson(['compare', s(a), s(b), '--json']);

			// docker create: one container, its mount record, the init layer with its placeholders, an empty RW layer.
			const created = await cmp('0-images', '1-created');
			const web = created.objects.find((o: any) => o.kind === 'container');
			assert.equal([web.change, web.label.split(' ')[0]], ['added', 'web']);
			assert.ok(
				created.story.some((x: string) => x.startsWith('docker create: container web')),
				created.story.join('; '),
			);
			assert.equal(
				created.objects.filter((o: any) => o.kind !== 'container'),
				[],
				'no image or layer changes',
			);
			const area = (c: any, kind: string, titleStart: string) =>
				c.areas.find((a: any) => a.kind === kind && a.title.startsWith(titleStart));
			const cdir = area(created, 'container', 'container web');
			assert.equal(cdir.change, 'added');
			assert.equal(
				cdir.files.map((f: any) => f.path.split('/').slice(2).join('/')).sort(),
				['', 'checkpoints', 'config.v2.json', 'hostconfig.json'].sort(),
			);
			const mount = area(created, 'mount', 'mount record of container web');
			assert.equal(
				mount.files
					.filter((f: any) => f.change === 'added')
					.map((f: any) => f.path.split('/').at(-1))
					.sort(),
				['init-id', 'mount-id', 'parent', web.id].sort(),
			);
			assert.match(mount.files.find((f: any) => f.path.endsWith('/init-id')).note, /-init/);
			const init = area(created, 'layer-dir', 'init layer of web');
			const initFiles = init.files.map((f: any) => f.path.slice(init.area.length + 1));
			for (const p of [
				'diff/.dockerenv',
				'diff/dev/console',
				'diff/etc/hostname',
				'diff/etc/hosts',
				'diff/etc/resolv.conf',
				'diff/etc/mtab',
				'link',
				'lower',
				'work',
			])
				assert.ok(initFiles.includes(p), `init layer has ${p}`);
			assert.match(init.files.find((f: any) => f.path.endsWith('diff/etc/mtab')).note, /\/proc\/mounts/);
			assert.is(init.files.find((f: any) => f.path.endsWith('diff/etc/mtab')).after.target, '/proc/mounts');
			const rw = area(created, 'layer-dir', 'RW layer of web');
			const rwFiles = rw.files.map((f: any) => (f.path === rw.area ? '' : f.path.slice(rw.area.length + 1))).sort();
			assert.equal(
				rwFiles,
				['', 'diff', 'link', 'lower', 'work', 'work/work'],
				'an empty RW layer: diff/, link, lower, work/ (no merged/ at rest)',
			);
			assert.match(rw.files.find((f: any) => f.path.endsWith('/work/work')).note, /mounted/);
			assert.ok(
				created.areas.some((a: any) => a.kind === 'driver-links'),
				'two new short links in overlay2/l/',
			);
			assert.ok(initFiles.includes('committed'), 'the init layer is committed: the RW layer was made on top of it');

			// docker start: state, hostname/hosts/resolv.conf, the log, the file the process wrote.
			const started = await cmp('1-created', '2-started');
			const st = started.objects.find((o: any) => o.kind === 'container');
			assert.equal(st.change, 'changed');
			assert.ok(
				st.details.some((d: string) => d === 'status created -> exited (0)'),
				st.details.join('; '),
			);
			assert.ok(
				started.story.some((x: string) => x.startsWith('docker start: container web')),
				started.story.join('; '),
			);
			const cdir2 = area(started, 'container', 'container web');
			const names2 = cdir2.files.map((f: any) => `${f.change} ${f.path.split('/').slice(2).join('/')}`);
			for (const n of [
				'added hostname',
				'added hosts',
				'added resolv.conf',
				`added ${web.id}-json.log`,
				'changed config.v2.json',
			])
				assert.ok(names2.includes(n), `start: ${n} (${names2.join(', ')})`);
			const rw2 = area(started, 'layer-dir', 'RW layer of web');
			assert.ok(
				rw2.files.some((f: any) => f.change === 'added' && f.path.endsWith('/diff/new.txt')),
				'the file the process wrote is in the RW layer',
			);
			assert.not.ok(
				area(started, 'layer-dir', 'init layer of web')?.files.some((f: any) => f.path.includes('/diff/')),
				"the init layer's files are not written by start",
			);

			// docker rm: everything of the container goes, the image stays.
			const removed = await cmp('2-started', '3-removed');
			assert.equal(
				removed.objects.map((o: any) => `${o.kind} ${o.change}`),
				['container removed'],
			);
			assert.ok(removed.story.some((x: string) => x.startsWith('docker rm: container web')));
			for (const t of ['container web', 'mount record of container web', 'RW layer of web', 'init layer of web']) {
				const kind = t.startsWith('container') ? 'container' : t.startsWith('mount') ? 'mount' : 'layer-dir';
				assert.is(area(removed, kind, t)?.change, 'removed', `rm removes ${t}`);
			}

			// docker build: images and layers added, a tag, no container left behind.
			const built = await cmp('3-removed', '4-built');
			assert.ok(
				built.story.some((x: string) => x.startsWith('docker build')),
				built.story.join('; '),
			);
			assert.ok(
				built.objects.some((o: any) => o.kind === 'image' && o.change === 'added' && o.label === 'local/built:1'),
			);
			assert.ok(
				built.objects.some(
					(o: any) => o.kind === 'layer' && o.change === 'added' && /RUN echo built/.test(o.details.join(' ')),
				),
			);
			assert.equal(
				built.objects.filter((o: any) => o.kind === 'container'),
				[],
				'the build containers were removed',
			);
			assert.ok(built.areas.some((a: any) => a.kind === 'tags' && a.change === 'changed'));
			assert.ok(
				built.areas.some(
					(a: any) =>
						a.kind === 'layer-record' &&
						a.change === 'added' &&
						a.files.some((f: any) => f.path.endsWith('/tar-split.json.gz')),
				),
			);

			// An archive compares like its directory; the text form explains each group.
			execFileSync('tar', ['-C', s('1-created'), '-czf', s('1-created.tar.gz'), '.']);
			const fromArchive = await cmp('0-images', '1-created.tar.gz');
			// A tar keeps whole seconds: times aside, the comparison is the same.
			const norm = (c: any) =>
				JSON.stringify({...c, after: ''}, (k, v) => (k === 'mtimeMs' ? Math.floor(v / 1000) : v));
			assert.is(norm(fromArchive), norm(created), 'archive and directory give the same comparison');
			const text = await ll(['compare', s('0-images'), s('1-created')]);
			assert.is(text.code, 0);
			assert.match(text.stdout, /docker create: container web/);
			assert.match(text.stdout, /\+ diff\/etc\/hostname\s+0 B\s+an empty placeholder/);
			assert.match(text.stdout, /\+ mount-id\s+\d+ B\s+the cache id of the container's RW layer/);
			const same = await llJson(['compare', s('4-built'), s('4-built'), '--json']);
			assert.equal([same.objects, same.areas, same.story], [[], [], ['nothing changed']]);
		} finally {
			await cleanup(daemon);
		}
		console.log(`  compare: ${Date.now() - t0} ms`);
	});

	test('watch: a live root while docker create, start and rm run (overlay2)', async () => {
		const t0 = Date.now();
		const daemon = await startDockerd({driver: 'overlay2'});
		const lines: any[] = [];
		const abort = new AbortController();
		let watching: Promise<number> | undefined;
		try {
			makeImages(daemon);
			const parsed = parseCommandLine(['watch', '--root', daemon.root, '--interval', '100', '--json']);
			assert.ok(parsed.ok);
			if (!parsed.ok) return;
			let buf = '';
			watching = watchCommand(
				parsed.args,
				{
					stdout: {
						write: (s: string) => {
							buf += s;
							const parts = buf.split('\n');
							buf = parts.pop()!;
							for (const p of parts) lines.push(JSON.parse(p));
						},
					},
					stderr: {write: () => true},
					env: {},
				},
				daemon.root,
				abort.signal,
			);
			const until = async (what: string, pred: (l: any) => boolean) => {
				const end = Date.now() + 15_000;
				while (!lines.some(pred)) {
					if (Date.now() > end)
						assert.unreachable(
							`watch never reported ${what}; saw: ${lines.map(l => (l.story ?? [l.kind]).join('; ')).join(' | ')}`,
						);
					await sleep(50);
				}
				return lines.find(pred);
			};
			await until('its start', l => l.kind === 'start');
			daemon.docker(['create', '--name', 'watched', 'local/busybox:1', 'sh', '-c', 'echo hi > /x']);
			const created = await until('docker create', l =>
				(l.story ?? []).some((s: string) => s.startsWith('docker create: container w')),
			);
			assert.ok(created.objects.some((o: any) => o.kind === 'container' && o.change === 'added'));
			const paths: string[] = created.files.map((f: any) => f.path);
			assert.ok(
				paths.some(p => /layerdb\/mounts\/[0-9a-f]{64}\/init-id$/.test(p)),
				'the mount record',
			);
			assert.ok(
				paths.some(p => p.endsWith('-init/diff/etc/hostname')),
				"the init layer's placeholders",
			);
			// Written order: the files are listed oldest first.
			const times = created.files.filter((f: any) => f.mtime !== null).map((f: any) => f.mtime);
			assert.equal(times, [...times].sort(), 'in the order written');
			daemon.docker(['start', '-a', 'watched']);
			await until('docker start', l =>
				(l.story ?? []).some((s: string) => s.startsWith('docker start: container watched')),
			);
			daemon.docker(['rm', 'watched']);
			await until('docker rm', l => (l.story ?? []).some((s: string) => s.startsWith('docker rm: container watched')));
		} finally {
			abort.abort();
			if (watching !== undefined) assert.is(await watching, 0);
			await cleanup(daemon);
		}
		console.log(`  watch: ${Date.now() - t0} ms`);
	});
}

test.run();
