// Test harness: run a private, throw-away dockerd (data root under /tmp) so
// tests can create real on-disk Docker state and then read it offline.
// Node built-ins only. Needs root and the dockerd binary (see dockerdAvailable).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Driver = 'vfs' | 'overlay2' | 'fuse-overlayfs' | 'btrfs' | 'overlayfs' | 'overlay';
/** The drivers every end-to-end suite runs on (btrfs needs a btrfs data root, overlayfs dockerd 26: see startDockerd). */
export const DRIVERS: readonly Driver[] = ['vfs', 'overlay2', 'fuse-overlayfs'];

/** Where scripts/fetch-docker26.sh unpacks Debian trixie's dockerd 26 and containerd 1.7 (.ci/run runs it). */
export const DOCKER26_DIR = process.env.LAYERLENS_DOCKER26 ?? '/opt/layerlens-test/docker26';

/** dockerd 26 with containerd 1.7, for the containerd image store (feature containerd-snapshotter). */
export function docker26Available(): {ok: boolean; why: string} {
	const base = dockerdAvailable();
	if (!base.ok) return base;
	for (const b of ['dockerd', 'containerd', 'containerd-shim-runc-v2']) {
		if (!isExecutable(path.join(DOCKER26_DIR, 'bin', b)))
			return {ok: false, why: `${DOCKER26_DIR}/bin/${b} missing (run scripts/fetch-docker26.sh)`};
	}
	return {ok: true, why: `dockerd 26 at ${DOCKER26_DIR}`};
}

export interface DockerOpts {
	input?: Buffer | string;
	cwd?: string;
	env?: Record<string, string>;
}

export interface Daemon {
	/** Storage driver the daemon was started with. */
	readonly driver: Driver;
	/** Temp folder holding everything of this daemon (data root, exec root, socket, log). */
	readonly dir: string;
	/** The data root (what /var/lib/docker is on a real host), absolute. */
	readonly root: string;
	readonly execRoot: string;
	readonly socket: string;
	readonly logFile: string;
	/** dockerd's pid. */
	readonly pid: number;
	/** Run the docker client against this daemon; returns stdout, throws (with stderr) on non-zero exit. */
	docker(args: string[], opts?: DockerOpts): string;
	/** SIGTERM, wait up to 30 s, then SIGKILL; then kill anything of ours left (containerd, shims, container processes). */
	stop(): Promise<void>;
	/** True once stop() has completed or the process has exited by itself. */
	readonly exited: boolean;
}

const DOCKERD_CANDIDATES = [
	'/usr/sbin/dockerd',
	'/usr/bin/dockerd',
	'/usr/local/bin/dockerd',
	'/usr/local/sbin/dockerd',
];

function findBinary(name: string, candidates: string[]): string | undefined {
	for (const c of candidates) if (isExecutable(c)) return c;
	for (const d of (process.env.PATH ?? '').split(':')) {
		if (!d) continue;
		const p = path.join(d, name);
		if (isExecutable(p)) return p;
	}
	return undefined;
}

function isExecutable(p: string): boolean {
	try {
		fs.accessSync(p, fs.constants.X_OK);
		return fs.statSync(p).isFile();
	} catch {
		return false;
	}
}

export function dockerdAvailable(): {ok: boolean; why: string} {
	if (process.platform !== 'linux') return {ok: false, why: `not linux (${process.platform})`};
	const dockerd = findBinary('dockerd', DOCKERD_CANDIDATES);
	if (!dockerd) return {ok: false, why: 'dockerd binary not found'};
	const docker = findBinary('docker', ['/usr/local/bin/docker', '/usr/bin/docker']);
	if (!docker) return {ok: false, why: 'docker client binary not found'};
	if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
		return {ok: false, why: 'not running as root (dockerd needs root)'};
	}
	return {ok: true, why: `dockerd at ${dockerd}, docker client at ${docker}, running as root`};
}

const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms));
/** Like sleep, but does not keep the process alive (for timeouts in races). */
const timeout = (ms: number) => new Promise<void>(r => setTimeout(r, ms).unref());

function tail(file: string, lines = 40): string {
	try {
		return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
	} catch (e) {
		return `(no log: ${(e as Error).message})`;
	}
}

/** pids whose command line mentions `needle` (excluding ourselves). */
function pidsMentioning(needle: string): number[] {
	const out: number[] = [];
	for (const ent of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(ent)) continue;
		const pid = Number(ent);
		if (pid === process.pid) continue;
		try {
			const cmd = fs.readFileSync(`/proc/${ent}/cmdline`, 'utf8');
			if (cmd.includes(needle)) out.push(pid);
		} catch {
			/* gone */
		}
	}
	return out;
}

/** pids whose cgroup path mentions one of the given container ids. */
function pidsInContainers(ids: string[]): number[] {
	if (ids.length === 0) return [];
	const out: number[] = [];
	for (const ent of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(ent)) continue;
		try {
			const cg = fs.readFileSync(`/proc/${ent}/cgroup`, 'utf8');
			if (ids.some(id => cg.includes(id))) out.push(Number(ent));
		} catch {
			/* gone */
		}
	}
	return out;
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	// zombies count as gone
	try {
		const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
		return state !== 'Z';
	} catch {
		return false;
	}
}

async function killAndWait(pids: number[], timeoutMs = 5000): Promise<void> {
	for (const p of pids) {
		try {
			process.kill(p, 'SIGKILL');
		} catch {
			/* gone */
		}
	}
	const end = Date.now() + timeoutMs;
	while (pids.some(alive) && Date.now() < end) await sleep(50);
}

/**
 * Starts a private dockerd. driver 'overlayfs' means the containerd image store: dockerd 26 from
 * DOCKER26_DIR with feature containerd-snapshotter (its managed containerd 1.7 under data/containerd/daemon).
 * driver 'btrfs' needs `dir` with `dir/data` already on a btrfs file system (the caller mounts it).
 */
export async function startDockerd(opts: {driver: Driver; dir?: string}): Promise<Daemon> {
	const c8d = opts.driver === 'overlayfs';
	const avail = c8d ? docker26Available() : dockerdAvailable();
	if (!avail.ok) throw new Error(`dockerd not available: ${avail.why}`);
	const dockerd = c8d ? path.join(DOCKER26_DIR, 'bin', 'dockerd') : findBinary('dockerd', DOCKERD_CANDIDATES)!;

	const dir = opts.dir ? path.resolve(opts.dir) : fs.mkdtempSync(path.join('/tmp', 'll-'));
	fs.mkdirSync(dir, {recursive: true});
	const root = path.join(dir, 'data');
	const execRoot = path.join(dir, 'exec');
	const socket = path.join(dir, 'sock');
	const pidFile = path.join(dir, 'pid');
	const logFile = path.join(dir, 'dockerd.log');
	const configFile = path.join(dir, 'daemon.json');
	const clientConfig = path.join(dir, 'client');
	if (socket.length > 100) throw new Error(`socket path too long (${socket.length} chars): ${socket}`);
	fs.mkdirSync(root, {recursive: true});
	fs.mkdirSync(execRoot, {recursive: true});
	fs.mkdirSync(clientConfig, {recursive: true});
	// Own (empty) config file so a host /etc/docker/daemon.json cannot interfere.
	fs.writeFileSync(configFile, c8d ? `${JSON.stringify({features: {'containerd-snapshotter': true}})}\n` : '{}\n');

	const args = [
		'--data-root',
		root,
		'--exec-root',
		execRoot,
		'--pidfile',
		pidFile,
		'--config-file',
		configFile,
		'-H',
		`unix://${socket}`,
		'--storage-driver',
		opts.driver,
		'--bridge',
		'none',
		'--iptables=false',
		'--ip6tables=false',
		'--userland-proxy=false',
	];
	const logFd = fs.openSync(logFile, 'a');
	const child: ChildProcess = spawn(dockerd, args, {
		stdio: ['ignore', logFd, logFd],
		// dockerd 26 finds its containerd (and the shim) on PATH: put trixie's first.
		env: {
			...process.env,
			PATH:
				(c8d ? `${path.join(DOCKER26_DIR, 'bin')}:` : '') +
				(process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
		},
	});
	fs.closeSync(logFd);
	let exited = false;
	let exitInfo = '';
	const exitPromise = new Promise<void>(resolve => {
		child.once('exit', (code, signal) => {
			exited = true;
			exitInfo = `code=${code} signal=${signal}`;
			resolve();
		});
		child.once('error', err => {
			exited = true;
			exitInfo = `spawn error: ${err.message}`;
			resolve();
		});
	});
	const pid = child.pid ?? -1;

	const clientEnv = {
		...process.env,
		DOCKER_HOST: `unix://${socket}`,
		DOCKER_CONFIG: clientConfig,
		DOCKER_CLI_HINTS: 'false',
	} as Record<string, string | undefined>;
	delete clientEnv.DOCKER_CONTEXT;
	delete clientEnv.DOCKER_TLS_VERIFY;
	delete clientEnv.DOCKER_CERT_PATH;

	function docker(dargs: string[], o: DockerOpts = {}): string {
		const r = spawnSync('docker', dargs, {
			env: {...clientEnv, ...(o.env ?? {})},
			...(o.cwd !== undefined ? {cwd: o.cwd} : {}),
			...(o.input !== undefined ? {input: o.input} : {}),
			maxBuffer: 256 * 1024 * 1024,
			encoding: 'utf8',
			timeout: 120_000,
		});
		if (r.error) throw new Error(`docker ${dargs.join(' ')}: ${r.error.message}`);
		if (r.status !== 0) {
			const err = new Error(
				`docker ${dargs.join(' ')} failed (status ${r.status}${r.signal ? `, signal ${r.signal}` : ''}): ${r.stderr.trim()}`,
			) as Error & {status: number | null; stdout: string; stderr: string};
			err.status = r.status;
			err.stdout = r.stdout;
			err.stderr = r.stderr;
			throw err;
		}
		return r.stdout;
	}

	let stopped: Promise<void> | undefined;
	async function doStop(): Promise<void> {
		// Remember which containers run, to hunt their processes down if needed.
		let running: string[] = [];
		if (!exited) {
			try {
				running = docker(['ps', '-q', '--no-trunc']).split('\n').filter(Boolean);
			} catch {
				/* daemon may be wedged; fall back to cmdline matching */
			}
			try {
				child.kill('SIGTERM');
			} catch {
				/* already gone */
			}
			const timedOut = await Promise.race([exitPromise.then(() => false), timeout(30_000).then(() => true)]);
			if (timedOut) {
				try {
					child.kill('SIGKILL');
				} catch {
					/* gone */
				}
				await Promise.race([exitPromise, timeout(5_000)]);
			}
		}
		// Anything still around that belongs to this daemon: managed containerd,
		// containerd-shim-runc-v2 (its -address points into our exec root),
		// fuse-overlayfs mount helpers, and container processes (by cgroup).
		for (let round = 0; round < 3; round++) {
			const living = [...new Set([...pidsMentioning(`${dir}/`), ...pidsInContainers(running)])].filter(alive);
			if (living.length === 0) break;
			// Let a still-exiting containerd finish on its own first.
			if (round === 0) {
				const end = Date.now() + 5000;
				while (living.some(alive) && Date.now() < end) await sleep(100);
				continue;
			}
			await killAndWait(living);
		}
	}

	const daemon: Daemon = {
		driver: opts.driver,
		dir,
		root,
		execRoot,
		socket,
		logFile,
		pid,
		docker,
		stop() {
			stopped ??= doStop();
			return stopped;
		},
		get exited() {
			return exited;
		},
	};

	// Readiness: poll `docker version` for up to 30 s.
	const deadline = Date.now() + 30_000;
	let lastErr = '';
	for (;;) {
		if (exited) {
			await daemon.stop();
			throw new Error(`dockerd exited during startup (${exitInfo}); log tail:\n${tail(logFile)}`);
		}
		if (fs.existsSync(socket)) {
			const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
				env: clientEnv,
				encoding: 'utf8',
				timeout: 10_000,
			});
			if (r.status === 0 && r.stdout.trim()) break;
			lastErr = (r.stderr || r.error?.message || '').trim();
		}
		if (Date.now() > deadline) {
			await daemon.stop();
			throw new Error(`dockerd not ready after 30 s (${lastErr}); log tail:\n${tail(logFile)}`);
		}
		await sleep(200);
	}
	return daemon;
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
	const prefix = dir.endsWith('/') ? dir : `${dir}/`;
	let text = '';
	try {
		text = fs.readFileSync('/proc/mounts', 'utf8');
	} catch {
		return [];
	}
	const out: string[] = [];
	for (const line of text.split('\n')) {
		const mp = line.split(' ')[1];
		if (!mp) continue;
		const decoded = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
		if (decoded === dir || decoded.startsWith(prefix)) out.push(decoded);
	}
	return out.sort((a, b) => b.length - a.length);
}

/** Remove the daemon's temp folder (after stop()). Unmounts anything still mounted under it first. */
export async function cleanup(daemon: Daemon): Promise<void> {
	if (!daemon.exited) await daemon.stop();
	for (let round = 0; round < 5; round++) {
		const mps = mountsUnder(daemon.dir);
		if (mps.length === 0) break;
		for (const mp of mps) {
			const r = spawnSync('umount', [mp], {encoding: 'utf8'});
			if (r.status !== 0 && round >= 2) spawnSync('umount', ['-l', mp], {encoding: 'utf8'});
		}
	}
	// fuse-overlayfs helpers exit when unmounted; make sure.
	await killAndWait(pidsMentioning(`${daemon.dir}/`).filter(alive));
	if (daemon.dir.startsWith(os.tmpdir()) || daemon.dir.startsWith('/tmp/')) {
		fs.rmSync(daemon.dir, {recursive: true, force: true, maxRetries: 3});
	} else {
		// Caller-provided dir outside /tmp: only remove what we created.
		for (const n of ['data', 'exec', 'sock', 'pid', 'dockerd.log', 'daemon.json', 'client', 'expected.json', 'work']) {
			fs.rmSync(path.join(daemon.dir, n), {recursive: true, force: true, maxRetries: 3});
		}
	}
}
