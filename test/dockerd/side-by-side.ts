// Answers side by side with the daemon (dockerd 20.10 with overlay2, dockerd 26 with the containerd
// image store, and a local registry from Debian's docker-registry on 127.0.0.1): what layerlens says
// of a stopped daemon's root against what docker said of the same state just before it stopped:
// - the command line: `ls --json` command = docker ps --no-trunc's COMMAND (inside its quotes), argv = Path + Args;
// - `inspect CONTAINER`: every field of the stored state, as docker inspect shows it;
// - `inspect --provenance`: NetworkDisabled set by the daemon (--bridge none) or by an API request;
// - a container whose image was removed with `docker rmi -f`: a warning, and it still starts;
// - `inspect IMAGE` of a `docker commit`: Author, Comment, Container;
// - an image pulled by digest only: dangling for dockerd 20.10, not for dockerd 26's containerd store;
//   its registry blobs (image/<driver>/distribution/) = the registry's manifest;
// - an interrupted removal (RemovalInProgress): the finding, then a real daemon that marks it dead and removes it.
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import {test} from 'uvu';
import * as assert from 'uvu/assert';
import {run} from '../../src/cli.ts';
import {type Daemon, cleanup, docker26Available, dockerdAvailable, startDockerd} from '../helpers/dockerd.ts';
import {busyboxRootfsTar} from '../helpers/real-states.ts';

type Out = {code: number; stdout: string; stderr: string};

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

const REGISTRY = ['/usr/bin/docker-registry', '/usr/sbin/docker-registry'].find(p => fs.existsSync(p));

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.once('error', reject);
		s.listen(0, '127.0.0.1', () => {
			const port = (s.address() as net.AddressInfo).port;
			s.close(() => resolve(port));
		});
	});
}

type Registry = {readonly host: string; manifest(repo: string, digest: string): any; stop(): Promise<void>};

/** Debian's docker-registry (distribution 2.8) on a free port, storage in dir; docker trusts 127.0.0.0/8 without TLS. */
async function startRegistry(dir: string): Promise<Registry> {
	const port = await freePort();
	fs.mkdirSync(path.join(dir, 'store'), {recursive: true});
	const config = path.join(dir, 'config.yml');
	fs.writeFileSync(
		config,
		[
			'version: 0.1',
			'log:',
			'  level: error',
			'storage:',
			'  filesystem:',
			`    rootdirectory: ${path.join(dir, 'store')}`,
			'http:',
			`  addr: 127.0.0.1:${port}`,
			'',
		].join('\n'),
	);
	const log = fs.openSync(path.join(dir, 'registry.log'), 'a');
	const child: ChildProcess = spawn(REGISTRY!, ['serve', config], {stdio: ['ignore', log, log]});
	fs.closeSync(log);
	const host = `127.0.0.1:${port}`;
	const get = (url: string, accept?: string) =>
		spawnSync('curl', ['-sf', ...(accept ? ['-H', `Accept: ${accept}`] : []), `http://${host}${url}`], {
			encoding: 'utf8',
		});
	for (let i = 0; i < 100 && get('/v2/').status !== 0; i++) await sleep(100);
	assert.is(get('/v2/').status, 0, 'the registry answers');
	return {
		host,
		manifest: (repo, digest) =>
			JSON.parse(get(`/v2/${repo}/manifests/${digest}`, 'application/vnd.docker.distribution.manifest.v2+json').stdout),
		stop: async () => {
			child.kill('SIGTERM');
			for (let i = 0; i < 50 && child.exitCode === null && child.signalCode === null; i++) await sleep(100);
		},
	};
}

/** POST /containers/create through the daemon's socket: what an API client (not the docker CLI) can ask. */
function apiCreate(daemon: Daemon, name: string, body: object): string {
	const out = execFileSync(
		'curl',
		[
			'-sf',
			'--unix-socket',
			daemon.socket,
			'-H',
			'Content-Type: application/json',
			'-d',
			JSON.stringify(body),
			`http://localhost/containers/create?name=${name}`,
		],
		{encoding: 'utf8'},
	);
	return JSON.parse(out).Id;
}

/** Runs a docker command that must fail with this exit status (docker run passes the container's on). */
function dockerFails(daemon: Daemon, args: string[], status: number): void {
	try {
		daemon.docker(args);
	} catch (e) {
		assert.is((e as {status?: number}).status, status, `${args.join(' ')}: ${(e as Error).message}`);
		return;
	}
	assert.unreachable(`${args.join(' ')} succeeded`);
}

/** docker ps's COMMAND is strconv.Quote of the daemon's Command; for ASCII it is a JSON string. */
const unquote = (s: string): string => JSON.parse(s);

const avail = dockerdAvailable();
const work = fs.mkdtempSync('/tmp/ll-sbs-');
process.on('exit', () => fs.rmSync(work, {recursive: true, force: true}));

if (!avail.ok || REGISTRY === undefined) {
	test('side by side with dockerd and a registry (needs root, dockerd, docker-registry)', () => {
		const why = !avail.ok ? avail.why : 'docker-registry not installed (apt-get install docker-registry)';
		if (process.env.CI) assert.unreachable(`cannot run in CI: ${why}`);
		console.log(`  skip: ${why}`);
	});
} else {
	let registry: Registry;
	let pulled = ''; // repo@digest of the image pulled by digest only
	let pulledRepo = '';

	test.before(async () => {
		registry = await startRegistry(path.join(work, 'registry'));
	});
	test.after(async () => {
		await registry?.stop();
	});

	test('dockerd 20.10 (overlay2): commands, stored state, provenance, rmi -f, commit, pulled by digest, interrupted removal', async () => {
		const daemon = await startDockerd({driver: 'overlay2'});
		let restarted: Daemon | undefined;
		try {
			const d = daemon.docker;
			const rootfs = path.join(daemon.dir, 'work', 'rootfs');
			d(['import', '-', 'local/busybox:1'], {input: busyboxRootfsTar(rootfs)});
			const build = (tag: string, lines: string[]) =>
				d(['build', '-q', '-t', tag, '-'], {
					input: ['FROM local/busybox:1', ...lines, ''].join('\n'),
					env: {DOCKER_BUILDKIT: '0'},
				});
			// Commands: a shell line (spaces, quotes, redirections), odd arguments, none at all.
			dockerFails(
				daemon,
				['run', '--name', 'quoted', 'local/busybox:1', 'sh', '-c', 'echo out; echo err 1>&2; exit 3'],
				3,
			);
			d(['create', '--name', 'odd', 'local/busybox:1', 'echo', "it's", '', 'a  b', 'tab\there']);
			d(['create', '--name', 'bare', '--entrypoint', 'true', 'local/busybox:1']);
			// Networking off: by the daemon (--bridge none, started: quoted), by an API request, by --network none.
			const apiId = apiCreate(daemon, 'apinonet', {Image: 'local/busybox:1', Cmd: ['true'], NetworkDisabled: true});
			d(['start', 'apinonet']);
			d(['run', '--name', 'nonet', '--network', 'none', 'local/busybox:1', 'true']);
			// State: restarts, a manual stop, a health check.
			d(['run', '-d', '--name', 'restarter', '--restart', 'on-failure:2', 'local/busybox:1', 'sh', '-c', 'exit 1']);
			d([
				'run',
				'-d',
				'--name',
				'stopped',
				'--health-cmd',
				'true',
				'--health-interval',
				'1s',
				'local/busybox:1',
				'sleep',
				'1000',
			]);
			for (let i = 0; i < 100; i++) {
				const health = d(['inspect', '-f', '{{.State.Health.Status}}', 'stopped']).trim();
				const restarts = d([
					'inspect',
					'-f',
					'{{.RestartCount}} {{.State.Running}} {{.State.Restarting}}',
					'restarter',
				]).trim();
				if (health === 'healthy' && restarts === '2 false false') break;
				await sleep(200);
			}
			d(['stop', '-t', '1', 'stopped']);
			// docker rmi -f of a stopped container's image: the daemon removes the image, keeps its layers.
			build('local/gone:1', ['RUN echo gone > /gone']);
			d(['create', '--name', 'orphan', 'local/gone:1', 'cat', '/gone']);
			const goneId = d(['image', 'inspect', '-f', '{{.Id}}', 'local/gone:1']).trim();
			d(['rmi', '-f', 'local/gone:1']);
			assert.is(d(['start', '-a', 'orphan']).trim(), 'gone', 'the container still starts after rmi -f');
			// docker commit: Author, Comment, Container.
			d(['commit', '-a', 'Ann Author <ann@example.org>', '-m', 'a commit message', 'quoted', 'local/committed:1']);
			// Pulled by digest only.
			pulledRepo = `${registry.host}/dig`;
			build(`${pulledRepo}:1`, ['RUN echo d > /d']);
			d(['push', '-q', `${pulledRepo}:1`]);
			pulled = d(['image', 'inspect', '-f', '{{index .RepoDigests 0}}', `${pulledRepo}:1`]).trim();
			d(['rmi', `${pulledRepo}:1`]);
			d(['pull', '-q', pulled]);

			// What the daemon says, all containers stopped.
			const ids = d(['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean);
			const inspected: any[] = JSON.parse(d(['inspect', ...ids]));
			const byName = new Map(inspected.map(c => [String(c.Name).slice(1), c]));
			assert.ok(
				inspected.every(c => !c.State.Running),
				'all stopped',
			);
			const ps = new Map(
				d(['ps', '-a', '--no-trunc', '--format', '{{.ID}}\t{{.Command}}'])
					.split('\n')
					.filter(Boolean)
					.map(l => l.split('\t') as [string, string]),
			);
			const danglingIds = d(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])
				.split('\n')
				.filter(Boolean)
				.sort();
			const committed = JSON.parse(d(['image', 'inspect', 'local/committed:1']))[0];
			const pulledImage = JSON.parse(d(['image', 'inspect', pulled]))[0];
			assert.equal([pulledImage.RepoTags, pulledImage.RepoDigests], [[], [pulled]], 'pulled by digest only');
			assert.ok(danglingIds.includes(pulledImage.Id), 'dockerd 20.10 lists it with --filter dangling=true');
			await daemon.stop();
			const root = daemon.root;

			// 3. Commands, as docker ps shows them; the arguments as stored.
			const ls: any[] = await llJson(['ls', '--json', '--root', root]);
			for (const c of ls) {
				const theirs = inspected.find(x => x.Id === c.id);
				assert.is(c.command, unquote(ps.get(c.id)!), `${c.name}: command = docker ps --no-trunc`);
				assert.equal(c.argv, [theirs.Path, ...theirs.Args], `${c.name}: argv = Path + Args`);
			}
			assert.is(ls.find(c => c.name === 'quoted').command, "sh -c 'echo out; echo err 1>&2; exit 3'");
			assert.equal(ls.find(c => c.name === 'odd').argv, ['echo', "it's", '', 'a  b', 'tab\there']);
			const model = await llJson(['model', '--root', root]);
			assert.equal(
				model.containers.find((c: any) => c.name === 'odd').argv,
				['echo', "it's", '', 'a  b', 'tab\there'],
				'model JSON too',
			);
			const timeline = await ll(['timeline', '--root', root]);
			assert.match(timeline.stdout, "started: sh -c 'echo out; echo err 1>&2; exit 3'");

			// 4. inspect CONTAINER: the stored state, field by field as docker inspect shows it.
			for (const [name, theirs] of byName) {
				const mine = await llJson(['inspect', name, '--root', root]);
				const s = mine.stored;
				// docker inspect shows State as stored, with Status added, Health left out when null, and RemovalInProgress never.
				const {Status: _status, ...state} = theirs.State;
				for (const [k, v] of Object.entries(state)) assert.equal(s.State[k], v, `${name}: State.${k}`);
				assert.equal(
					Object.keys(s.State)
						.filter(k => !(k in state))
						.sort(),
					['Health', 'RemovalInProgress'].filter(k => !(k in state)),
					`${name}: State has nothing docker inspect lacks but these`,
				);
				if (!('Health' in state)) assert.is(s.State.Health, null);
				assert.is(s.State.RemovalInProgress, false);
				for (const k of [
					'Path',
					'Args',
					'Image',
					'Created',
					'Name',
					'Driver',
					'LogPath',
					'RestartCount',
					'HostnamePath',
					'HostsPath',
					'ResolvConfPath',
					'MountLabel',
					'ProcessLabel',
					'AppArmorProfile',
				]) {
					assert.equal(s[k], theirs[k], `${name}: ${k}`);
				}
				assert.is(s.OS, theirs.Platform, `${name}: OS = Platform`);
				// Each endpoint as docker inspect shows it (the store also keeps IPAMOperational, which docker inspect leaves out).
				assert.equal(
					Object.keys(s.NetworkSettings.Networks ?? {}).sort(),
					Object.keys(theirs.NetworkSettings.Networks).sort(),
					`${name}: networks (docker inspect shows null as {})`,
				);
				for (const [net, ep] of Object.entries<any>(theirs.NetworkSettings.Networks)) {
					for (const [k, v] of Object.entries(ep))
						assert.equal(s.NetworkSettings.Networks[net][k], v, `${name}: NetworkSettings.Networks.${net}.${k}`);
				}
				for (const k of ['SandboxID', 'SandboxKey'])
					assert.equal(s.NetworkSettings[k], theirs.NetworkSettings[k], `${name}: NetworkSettings.${k}`);
				assert.equal(
					s.NetworkSettings.Ports ?? {},
					theirs.NetworkSettings.Ports,
					`${name}: NetworkSettings.Ports (docker inspect shows null as {})`,
				);
				assert.equal(mine.hostConfig, theirs.HostConfig, `${name}: HostConfig`);
				assert.equal(mine.config, theirs.Config, `${name}: Config`);
			}
			assert.is(
				(await llJson(['inspect', 'stopped', '--root', root])).stored.HasBeenManuallyStopped,
				true,
				'docker stop: HasBeenManuallyStopped',
			);
			assert.is(byName.get('restarter').RestartCount, 2);
			assert.is(byName.get('stopped').State.Health.Status !== undefined, true, 'a health state to compare');
			assert.ok(byName.get('quoted').LogPath.endsWith('-json.log'));

			// 2. NetworkDisabled: who set it.
			const netMark = async (name: string) =>
				(await llJson(['inspect', name, '--provenance', '--json', '--root', root])).config.find(
					(m: any) => m.field === 'NetworkDisabled',
				);
			assert.is(byName.get('quoted').Config.NetworkDisabled, true, 'the daemon disabled it (--bridge none)');
			assert.is(byName.get('quoted').HostConfig.NetworkMode, 'default');
			assert.is((await netMark('quoted')).origin, 'daemon');
			assert.match((await netMark('quoted')).note, /--bridge none/);
			assert.is(byName.get('apinonet').Id, apiId);
			assert.is((await netMark('apinonet')).origin, 'user');
			assert.match((await netMark('apinonet')).note, /create request/);
			assert.is(byName.get('nonet').Config.NetworkDisabled, undefined, '--network none does not set it');
			assert.is(await netMark('nonet'), undefined);

			// 1. rmi -f: a warning that says what happened, no error.
			const check = await llJson(['check', '--json', '--root', root]);
			const orphan = byName.get('orphan');
			assert.is(orphan.Image, goneId);
			const onOrphan = check.findings.filter((f: any) => f.subject === `container:${orphan.Id}`);
			assert.equal(
				onOrphan.map((f: any) => [f.severity, f.code]),
				[['warning', 'container.image-removed']],
			);

			// 5. --explain: the files of the first start, there for a started container, said to be missing yet for a created one.
			const explained = async (name: string) =>
				(await llJson(['inspect', name, '--explain', '--json', '--root', root])).explain.flatMap((x: any) => x.notes);
			const started = (await explained('quoted')).filter((n: any) => n.firstStart === true && n.optional !== true);
			assert.ok(
				started.some(
					(n: any) =>
						n.label === `containers/${byName.get('quoted').Id}/${byName.get('quoted').Id}-json.log` &&
						/one JSON object per line/.test(n.text),
				),
				'the -json.log is explained',
			);
			assert.equal(
				started.filter((n: any) => !fs.existsSync(path.join(root, n.label))).map((n: any) => n.label),
				[],
				'a started container has them all',
			);
			const never = (await explained('bare')).filter((n: any) => n.firstStart === true);
			assert.ok(never.length >= 5, 'hostname, hosts, resolv.conf, resolv.conf.hash, the log');
			for (const n of never) {
				assert.not.ok(
					fs.existsSync(path.join(root, n.label)),
					`${n.label}: not there for a container that never started`,
				);
				assert.match(n.text, /^not there yet: written at the first start, and this container never started/);
			}
			const bareText = await ll(['inspect', 'bare', '--explain', '--root', root]);
			assert.match(
				bareText.stdout.replace(/\s+/g, ' '),
				/made once by docker create, with the same placeholders whether the container has started or not/,
			);

			// 7. docker commit provenance.
			const img = await llJson(['inspect', 'local/committed:1', '--root', root]);
			assert.equal(
				[img.author, img.comment, img.container],
				[committed.Author, committed.Comment, committed.Container],
			);
			assert.is(img.container, byName.get('quoted').Id);
			assert.is(img.author, 'Ann Author <ann@example.org>');

			// 6. Pulled by digest only: dangling for this store, as docker images --filter dangling=true said.
			const images: any[] = await llJson(['images', '--json', '--root', root]);
			assert.equal(
				images
					.filter(i => i.dangling)
					.map(i => i.id)
					.sort(),
				danglingIds,
			);
			assert.equal(images.find(i => i.id === pulledImage.Id).digests, [pulled]);
			const text = await ll(['images', '--root', root]);
			assert.match(
				text.stdout,
				new RegExp(`${pulledRepo.replace(/\./g, '\\.')}\\s+<none>\\s+${pulledImage.Id.slice(7, 19)}`),
				'its repository, no tag, as docker images shows it',
			);
			// Its registry blobs: image/overlay2/distribution/ against the registry's manifest.
			const manifest = registry.manifest('dig', pulled.slice(pulled.indexOf('@') + 1));
			const inspectedPulled = await llJson(['inspect', pulled, '--root', root]);
			assert.equal(
				inspectedPulled.distribution.map((l: any) => l.chainId),
				inspectedPulled.chainIds,
			);
			inspectedPulled.distribution.forEach((l: any, i: number) => {
				assert.ok(
					l.blobs.some((b: any) => b.digest === manifest.layers[i].digest && b.sourceRepository === pulledRepo),
					`layer ${i + 1}: blob ${manifest.layers[i].digest} from ${pulledRepo}`,
				);
			});
			const layer = await llJson(['inspect', inspectedPulled.chainIds.at(-1), '--root', root]);
			assert.ok(
				layer.distribution.some((b: any) => b.digest === manifest.layers.at(-1).digest),
				'inspect LAYER shows it too',
			);

			// 8. An interrupted removal, on a copy: edit config.v2.json as a docker rm cut short leaves it.
			const copy = path.join(work, 'removal');
			fs.mkdirSync(copy, {recursive: true});
			execFileSync('cp', ['-a', root, path.join(copy, 'data')]);
			const victim = byName.get('odd');
			const configFile = path.join(copy, 'data', 'containers', victim.Id, 'config.v2.json');
			const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
			config.State.RemovalInProgress = true;
			fs.writeFileSync(configFile, JSON.stringify(config));
			const c2 = await llJson(['check', '--json', '--root', path.join(copy, 'data')]);
			const removal = c2.findings.filter((f: any) => f.subject === `container:${victim.Id}`);
			assert.equal(
				removal.map((f: any) => [f.severity, f.code]),
				[['warning', 'container.removal-interrupted']],
			);
			assert.match(removal[0].message, /holds [\d.]+k?B/);
			assert.is((await llJson(['inspect', 'odd', '--root', path.join(copy, 'data')])).status, 'removing');
			// What the finding says the daemon does: it marks it dead at start, and docker rm finishes it.
			restarted = await startDockerd({driver: 'overlay2', dir: copy});
			assert.is(restarted.docker(['inspect', '-f', '{{.State.Status}}', victim.Id]).trim(), 'dead');
			restarted.docker(['rm', victim.Id]);
			assert.not.ok(restarted.docker(['ps', '-aq', '--no-trunc']).includes(victim.Id));
			// And what image.dangling says of the image pulled by digest: docker image prune removes it.
			assert.match(
				check.findings.find((f: any) => f.code === 'image.dangling' && f.subject === `image:${pulledImage.Id}`)
					?.message ?? '',
				/only a digest reference .*`docker image prune` removes it/,
			);
			assert.match(restarted.docker(['image', 'prune', '-f']), new RegExp(`deleted: ${pulledImage.Id}`));
		} finally {
			await cleanup(daemon);
			if (restarted !== undefined) await cleanup(restarted);
		}
	});

	test('dockerd 20.10 (overlay2): docker rm -f cut short by kill -9 of the daemon, then finished by the restarted daemon', async () => {
		// A race: the kill must land after the daemon set RemovalInProgress and before it removed containers/<id>.
		// A container with many directories in its RW layer keeps the removal busy; the delay grows until it hits.
		let daemon = await startDockerd({driver: 'overlay2'});
		const dir = daemon.dir;
		// The killed daemon's containerd (killed by stop()) may linger as a zombie where nothing reaps
		// orphans; its pid file would make the next dockerd wait for it forever.
		const restart = async () => {
			fs.rmSync(path.join(dir, 'exec', 'containerd', 'containerd.pid'), {force: true});
			return startDockerd({driver: 'overlay2', dir});
		};
		try {
			daemon.docker(['import', '-', 'local/busybox:1'], {input: busyboxRootfsTar(path.join(work, 'kill-rootfs'))});
			let hit: {id: string} | null = null;
			for (const delay of [60, 150, 300, 600, 1200]) {
				const name = `big${delay}`;
				daemon.docker([
					'run',
					'--name',
					name,
					'local/busybox:1',
					'sh',
					'-c',
					'i=0; while [ $i -lt 4000 ]; do mkdir -p /m/$i; echo $i > /m/$i/f; i=$((i+1)); done',
				]);
				const id = daemon.docker(['inspect', '-f', '{{.Id}}', name]).trim();
				const rm = spawn('docker', ['rm', '-f', name], {
					env: {...process.env, DOCKER_HOST: `unix://${daemon.socket}`, DOCKER_CONFIG: path.join(dir, 'client')},
					stdio: 'ignore',
				});
				await sleep(delay);
				process.kill(daemon.pid, 'SIGKILL');
				await new Promise(r => rm.once('exit', r));
				await daemon.stop();
				const config = path.join(daemon.root, 'containers', id, 'config.v2.json');
				const flagged =
					fs.existsSync(config) && JSON.parse(fs.readFileSync(config, 'utf8')).State.RemovalInProgress === true;
				if (flagged) {
					hit = {id};
					console.log(`  kill -9 ${delay} ms into docker rm -f: RemovalInProgress left set`);
					break;
				}
				daemon = await restart();
			}
			if (hit === null) {
				console.log('  note: the kill never landed mid-removal; the edited-config test above covers the finding');
				return;
			}
			const report = await llJson(['check', '--json', '--root', daemon.root]);
			const mine = report.findings.filter((f: any) => f.subject === `container:${hit!.id}`);
			assert.ok(
				mine.some((f: any) => f.code === 'container.removal-interrupted'),
				mine.map((f: any) => f.code).join(' '),
			);
			assert.equal(
				mine.filter((f: any) => f.severity === 'error').map((f: any) => `${f.code}: ${f.message}`),
				[],
				'nothing of the half-done removal is an error',
			);
			for (const f of mine.filter((x: any) => x.code !== 'container.removal-interrupted'))
				assert.match(f.message, /unfinished removal/, f.code);
			console.log(`  its findings: ${mine.map((f: any) => `${f.severity} ${f.code}`).join(', ')}`);
			daemon = await restart();
			assert.is(
				daemon.docker(['inspect', '-f', '{{.State.Status}}', hit.id]).trim(),
				'dead',
				'the restarted daemon marks it dead',
			);
			await daemon.stop();
			const dead = await llJson(['check', '--json', '--root', daemon.root]);
			assert.ok(dead.findings.some((f: any) => f.code === 'container.dead' && f.subject === `container:${hit!.id}`));
			daemon = await restart();
			daemon.docker(['rm', hit.id]);
			assert.not.ok(daemon.docker(['ps', '-aq', '--no-trunc']).includes(hit.id), 'docker rm finished it');
		} finally {
			await cleanup(daemon);
		}
	});

	const d26 = docker26Available();
	test('dockerd 26 (containerd store): pulled by digest only is not dangling; the command as docker ps shows it', async () => {
		if (!d26.ok) {
			if (process.env.CI) assert.unreachable(d26.why);
			console.log(`  skip: ${d26.why}`);
			return;
		}
		assert.ok(pulled !== '', 'the 20.10 test pushed an image');
		const daemon = await startDockerd({driver: 'overlayfs'});
		try {
			const d = daemon.docker;
			d(['pull', '-q', pulled]);
			dockerFails(daemon, ['run', '--name', 'quoted', pulled, 'sh', '-c', 'echo out; echo err 1>&2; exit 3'], 3);
			const id = JSON.parse(d(['image', 'inspect', pulled]))[0].Id;
			const danglingIds = d(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])
				.split('\n')
				.filter(Boolean)
				.sort();
			assert.not.ok(danglingIds.includes(id), 'dockerd 26 does not call it dangling');
			const ps = d(['ps', '-a', '--no-trunc', '--format', '{{.Command}}']).trim();
			await daemon.stop();
			const images: any[] = await llJson(['images', '--json', '--root', daemon.root]);
			const mine = images.find(i => i.id === id);
			assert.ok(mine, 'the image, by its manifest digest');
			assert.is(mine.dangling, false);
			assert.equal(
				images
					.filter(i => i.dangling)
					.map(i => i.id)
					.sort(),
				danglingIds,
			);
			const ls: any[] = await llJson(['ls', '--json', '--root', daemon.root]);
			assert.is(ls[0].command, unquote(ps));
			assert.equal(ls[0].argv, ['sh', '-c', 'echo out; echo err 1>&2; exit 3']);
		} finally {
			await cleanup(daemon);
		}
	});
}

test.run();
