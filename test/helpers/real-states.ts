// Build a realistic Docker state on a private daemon and record what the
// daemon itself says about it (the oracle for offline readers).
import {execFileSync, spawnSync} from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {cleanup, startDockerd, type Daemon, type Driver} from './dockerd.ts';

export interface Expected {
	driver: Driver;
	/** The data root at capture time (paths inside the captures, e.g. GraphDriver.Data, point under it). */
	root: string;
	/** `docker inspect` of every container (`docker ps -aq --no-trunc`). */
	containers: any[];
	/** `docker image inspect` of every image (`docker images -aq --no-trunc`, deduped). */
	images: any[];
	/** `docker ps -a --no-trunc --format '{{json .}}'`, one object per line. */
	ps: any[];
	/** `docker images -a --no-trunc --format '{{json .}}'`, one object per line. */
	imagesList: any[];
	/** `docker info --format '{{json .}}'`. */
	info: any;
	/** `docker images -q --no-trunc --filter dangling=true`: untagged images without children. */
	danglingIds: string[];
	/** `docker images -q --no-trunc` (no -a): what docker shows without intermediate images. */
	topLevelIds: string[];
	/** `docker logs --timestamps` of each container, by name: one "<RFC3339Nano> <line>" per line (stdout and stderr merged). */
	logs: Record<string, string[]>;
	/** Named facts about the scenario (ids), for tests. */
	facts: {
		busyboxImageId: string;
		appImageId: string;
		/** The first build of local/app:1, untagged after the rebuild. */
		danglingImageId: string;
		/** Container id by name (without leading slash). */
		containerIds: Record<string, string>;
	};
	/** Things that did not work on this host and were skipped / adapted. */
	notes: string[];
}

export const BUSYBOX_APPLETS = ['sh', 'ls', 'cat', 'echo', 'rm', 'mkdir', 'touch', 'sleep', 'true'] as const;

const BUSYBOX = '/bin/busybox';

/**
 * A rootfs of busybox-static made in `rootfs` (bin/busybox, a symlink per applet, and `extra` files)
 * and returned as a tar owned by root: what `docker import -` takes to make a tiny base image.
 */
export function busyboxRootfsTar(
	rootfs: string,
	applets: readonly string[] = BUSYBOX_APPLETS,
	extra: Record<string, string> = {},
): Buffer {
	fs.mkdirSync(path.join(rootfs, 'bin'), {recursive: true});
	fs.copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
	fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
	for (const a of applets) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
	for (const [rel, content] of Object.entries(extra)) {
		fs.mkdirSync(path.dirname(path.join(rootfs, rel)), {recursive: true});
		fs.writeFileSync(path.join(rootfs, rel), content);
	}
	return execFileSync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', '-', '.'], {
		maxBuffer: 64 * 1024 * 1024,
	});
}

function dockerfile(): string {
	return [
		'FROM local/busybox:1',
		'COPY hello.txt /app/hello.txt',
		'RUN mkdir -p /data && echo x > /data/x',
		'ENV FOO=bar',
		'WORKDIR /app',
		'RUN rm /bin/cat',
		'LABEL org.example.k=v',
		'CMD ["sh"]',
		'',
	].join('\n');
}

const jsonLines = (s: string): any[] =>
	s
		.split('\n')
		.map(l => l.trim())
		.filter(Boolean)
		.map(l => JSON.parse(l));

const lines = (s: string): string[] =>
	s
		.split('\n')
		.map(l => l.trim())
		.filter(Boolean);

/** Capture what the daemon reports right now. */
export function captureExpected(daemon: Daemon): Omit<Expected, 'facts' | 'notes' | 'driver' | 'root' | 'logs'> {
	const d = daemon.docker;
	const containerIds = lines(d(['ps', '-aq', '--no-trunc']));
	const imageIds = [...new Set(lines(d(['images', '-aq', '--no-trunc'])))];
	const containers = containerIds.length ? JSON.parse(d(['inspect', '--type', 'container', ...containerIds])) : [];
	const images = imageIds.length ? JSON.parse(d(['image', 'inspect', ...imageIds])) : [];
	return {
		containers,
		images,
		ps: jsonLines(d(['ps', '-a', '--no-trunc', '--format', '{{json .}}'])),
		imagesList: jsonLines(d(['images', '-a', '--no-trunc', '--format', '{{json .}}'])),
		info: JSON.parse(d(['info', '--format', '{{json .}}'])),
		danglingIds: [...new Set(lines(d(['images', '-q', '--no-trunc', '--filter', 'dangling=true'])))],
		topLevelIds: [...new Set(lines(d(['images', '-q', '--no-trunc'])))],
	};
}

/**
 * Create the standard scenario on `daemon` and return what the daemon says
 * about it; also written to `<daemon.dir>/expected.json`.
 *
 * Every container is stopped (or never started) when the capture is taken, so
 * the capture still matches the data root after a clean daemon shutdown.
 */
export async function makeStandardState(daemon: Daemon): Promise<Expected> {
	const d = daemon.docker;
	const notes: string[] = [];
	const work = path.join(daemon.dir, 'work'); // outside the data root
	fs.rmSync(work, {recursive: true, force: true});
	const rootfs = path.join(work, 'rootfs');
	const ctx = path.join(work, 'ctx');
	fs.mkdirSync(ctx, {recursive: true});

	// 1. tiny rootfs -> local/busybox:1
	d(['import', '-', 'local/busybox:1'], {input: busyboxRootfsTar(rootfs)});
	const busyboxImageId = d(['image', 'inspect', '-f', '{{.Id}}', 'local/busybox:1']).trim();

	// 2. legacy build local/app:1
	const build = () => d(['build', '-q', '-t', 'local/app:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
	fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile());
	fs.writeFileSync(path.join(ctx, 'hello.txt'), 'hello, first build\n');
	build();
	const danglingImageId = d(['image', 'inspect', '-f', '{{.Id}}', 'local/app:1']).trim();

	// A container from the first build, created while local/app:1 still named it.
	d(['create', '--name', 'from_old', 'local/app:1', 'true']);

	// 3. rebuild with different content, same tag -> first build left dangling
	fs.writeFileSync(path.join(ctx, 'hello.txt'), 'hello, second build\n');
	build();
	const appImageId = d(['image', 'inspect', '-f', '{{.Id}}', 'local/app:1']).trim();
	if (appImageId === danglingImageId) throw new Error('rebuild produced the same image id');
	d(['tag', 'local/app:1', 'local/app:latest']);

	// 4. containers
	d(['create', '-it', '--name', 'docker_test', 'local/busybox:1', '/bin/sh']);

	d([
		'run',
		'-d',
		'--name',
		'app_exited',
		'local/app:1',
		'sh',
		'-c',
		'echo hi > /new.txt; rm /app/hello.txt; echo done; echo oops >&2; exit 3',
	]);
	const code = d(['wait', 'app_exited']).trim();
	if (code !== '3') throw new Error(`app_exited exited with ${code}, expected 3`);

	d([
		'run',
		'-d',
		'--stop-timeout',
		'1',
		'--name',
		'app_stopped',
		'local/app:1',
		'sh',
		'-c',
		'echo hi > /new.txt; mkdir /d; sleep 1000',
	]);
	d(['stop', '-t', '1', 'app_stopped']);

	// The local log driver keeps its own binary format (local-logs/container.log).
	d(['run', '--log-driver', 'local', '--name', 'local_logs', 'local/busybox:1', 'sh', '-c', 'echo one; echo two >&2']);

	d(['create', '--name', 'old_name', 'local/app:1', 'true']);
	d(['rename', 'old_name', 'renamed']);

	// paused_c: pause, if this host can. A clean daemon shutdown stops running
	// containers anyway, so it is stopped again before the capture (on disk a
	// paused container never survives a clean shutdown).
	d(['run', '-d', '--stop-timeout', '1', '--name', 'paused_c', 'local/busybox:1', 'sleep', '1000']);
	try {
		d(['pause', 'paused_c']);
		const paused = d(['inspect', '-f', '{{.State.Paused}}', 'paused_c']).trim();
		if (paused !== 'true') notes.push(`paused_c: pause returned but State.Paused=${paused}`);
		d(['unpause', 'paused_c']);
		d(['stop', '-t', '1', 'paused_c']);
		notes.push('paused_c was paused and unpaused, then stopped before capture (clean shutdown cannot keep it paused)');
	} catch (e) {
		notes.push(`docker pause does not work here, paused_c removed: ${(e as Error).message.split('\n')[0]}`);
		d(['rm', '-f', 'paused_c']);
	}

	// Nothing may be running at capture time (see above).
	const running = lines(d(['ps', '-q', '--no-trunc']));
	if (running.length) d(['stop', '-t', '1', ...running]);

	const captured = captureExpected(daemon);
	const containerIds: Record<string, string> = {};
	for (const c of captured.containers) containerIds[String(c.Name).replace(/^\//, '')] = c.Id;
	const logs: Record<string, string[]> = {};
	for (const name of Object.keys(containerIds)) {
		// docker logs writes the container's stdout to its stdout and stderr to its stderr: merge by time.
		const r = spawnSync('docker', ['-H', `unix://${daemon.socket}`, 'logs', '--timestamps', name], {encoding: 'utf8'});
		logs[name] = [...r.stdout.split('\n'), ...r.stderr.split('\n')].filter(Boolean).sort();
	}
	const expected: Expected = {
		driver: daemon.driver,
		root: daemon.root,
		...captured,
		logs,
		facts: {busyboxImageId, appImageId, danglingImageId, containerIds},
		notes,
	};
	fs.writeFileSync(path.join(daemon.dir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
	fs.rmSync(work, {recursive: true, force: true});
	return expected;
}

export interface Snapshot {
	/** Data root, at rest (daemon stopped). */
	root: string;
	/** The daemon's temp folder (root is `<dir>/data`, expected.json is `<dir>/expected.json`). */
	dir: string;
	expected: Expected;
	/** Milliseconds spent: daemon start, scenario, stop. */
	timing: {start: number; state: number; stop: number};
	/** Remove everything (unmounting first). */
	dispose(): Promise<void>;
}

/** Start a daemon with `driver`, build the standard state, stop the daemon; the root is left at rest. */
export async function snapshotState(driver: Driver): Promise<Snapshot> {
	const t0 = Date.now();
	const daemon = await startDockerd({driver});
	const t1 = Date.now();
	let expected: Expected;
	try {
		expected = await makeStandardState(daemon);
	} catch (e) {
		const log = (() => {
			try {
				return fs.readFileSync(daemon.logFile, 'utf8').split('\n').slice(-20).join('\n');
			} catch {
				return '';
			}
		})();
		await daemon.stop();
		await cleanup(daemon);
		(e as Error).message += `\n[dockerd ${driver}] log tail:\n${log}`;
		throw e;
	}
	const t2 = Date.now();
	await daemon.stop();
	const t3 = Date.now();
	return {
		root: daemon.root,
		dir: daemon.dir,
		expected,
		timing: {start: t1 - t0, state: t2 - t1, stop: t3 - t2},
		dispose: () => cleanup(daemon),
	};
}
