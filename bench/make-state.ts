// Build (once) a large, real Docker state with the real dockerd, for the benchmark.
//
//   node --import tsx bench/make-state.ts [--force]
//
// The state lives outside the repo, in $LAYERLENS_BENCH_CACHE or
// ~/.cache/layerlens-bench/overlay2-3000 (data root: <cache>/data). It is built
// only when <cache>/complete is missing or records other parameters.
//
// What it contains (overlay2):
//   - local/busybox:1, imported from a busybox-static rootfs (1 layer)
//   - bench/img-NN:1 for NN = 01..60, each built with the legacy builder
//     FROM local/busybox:1 plus 5 RUN/COPY steps writing small distinct files
//     (6 layers each, all sharing the base layer)
//   - 3000 containers c-0001..c-3000, spread round-robin over the 60 images,
//     created through the Engine API on the daemon's unix socket; the first
//     100 are started (`true`) and have exited.
import {execFileSync, spawn} from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import {fileURLToPath} from 'node:url';
import {mountsUnder, startDockerd, type Daemon} from '../test/helpers/dockerd.ts';
import {busyboxRootfsTar} from '../test/helpers/real-states.ts';

export interface StateParams {
	/** Bump when the recipe changes, so old caches get rebuilt. */
	recipe: number;
	driver: 'overlay2';
	images: number;
	layersPerImage: number;
	containers: number;
	exited: number;
}

export const DEFAULT_PARAMS: StateParams = {
	recipe: 1,
	driver: 'overlay2',
	images: 60,
	layersPerImage: 6,
	containers: 3000,
	exited: 100,
};

export interface BenchState {
	/** The cache folder. */
	dir: string;
	/** The Docker data root inside it (what /var/lib/docker would be). */
	root: string;
	params: StateParams;
	/** True if it was built by this call (false: found complete in the cache). */
	built: boolean;
	/** Seconds the build took (this call's, or the recorded one). */
	buildSeconds: number;
}

interface Marker {
	params: StateParams;
	builtAt: string;
	buildSeconds: number;
	phases: Record<string, number>;
}

export function defaultCacheDir(): string {
	return process.env.LAYERLENS_BENCH_CACHE || path.join(os.homedir(), '.cache', 'layerlens-bench', 'overlay2-3000');
}

const BUILD_CONCURRENCY = 3;
const API_CONCURRENCY = 8;
const API = '/v1.41'; // Docker 20.10

function log(msg: string): void {
	process.stderr.write(`[make-state] ${msg}\n`);
}

function readMarker(dir: string): Marker | undefined {
	try {
		return JSON.parse(fs.readFileSync(path.join(dir, 'complete'), 'utf8')) as Marker;
	} catch {
		return undefined;
	}
}

const sameParams = (a: StateParams, b: StateParams): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Remove what a previous (partial or different) build left in `dir`. */
function wipe(dir: string): void {
	for (const mp of mountsUnder(dir)) {
		try {
			execFileSync('umount', [mp], {stdio: 'ignore'});
		} catch {
			execFileSync('umount', ['-l', mp], {stdio: 'ignore'});
		}
	}
	for (const n of ['complete', 'data', 'exec', 'sock', 'pid', 'dockerd.log', 'daemon.json', 'client', 'work']) {
		fs.rmSync(path.join(dir, n), {recursive: true, force: true, maxRetries: 3});
	}
}

/** Run `docker` asynchronously against the daemon (for parallel builds). */
function dockerAsync(
	daemon: Daemon,
	args: string[],
	opts: {cwd?: string; env?: Record<string, string>} = {},
): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn('docker', args, {
			cwd: opts.cwd,
			env: {
				...process.env,
				DOCKER_HOST: `unix://${daemon.socket}`,
				DOCKER_CONFIG: path.join(daemon.dir, 'client'),
				DOCKER_CLI_HINTS: 'false',
				...opts.env,
			},
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let out = '';
		let err = '';
		child.stdout.on('data', (b: Buffer) => (out += b.toString()));
		child.stderr.on('data', (b: Buffer) => (err += b.toString()));
		child.on('error', reject);
		child.on('close', code => {
			if (code === 0) resolve(out);
			else reject(new Error(`docker ${args.join(' ')} failed (${code}): ${err.trim()}`));
		});
	});
}

/** One Engine API call over the daemon's unix socket. */
function api(daemon: Daemon, method: string, urlPath: string, body?: unknown): Promise<{status: number; body: string}> {
	return new Promise((resolve, reject) => {
		const data = body === undefined ? undefined : JSON.stringify(body);
		const req = http.request(
			{
				socketPath: daemon.socket,
				method,
				path: API + urlPath,
				headers:
					data === undefined ? {} : {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data)},
			},
			res => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (c: string) => (text += c));
				res.on('end', () => {
					const status = res.statusCode ?? 0;
					if (status >= 200 && status < 300) resolve({status, body: text});
					else reject(new Error(`${method} ${urlPath}: HTTP ${status}: ${text.trim()}`));
				});
			},
		);
		req.on('error', reject);
		if (data !== undefined) req.write(data);
		req.end();
	});
}

/** Run `fn` over 0..n-1 with at most `limit` in flight. */
async function pool(
	n: number,
	limit: number,
	fn: (i: number) => Promise<void>,
	progress?: (done: number) => void,
): Promise<void> {
	let next = 0;
	let done = 0;
	async function worker(): Promise<void> {
		while (next < n) {
			const i = next++;
			await fn(i);
			done++;
			progress?.(done);
		}
	}
	await Promise.all(Array.from({length: Math.min(limit, n)}, worker));
}

function every(step: number, total: number, label: string, t0: number): (done: number) => void {
	return done => {
		if (done % step === 0 || done === total)
			log(`${label}: ${done}/${total} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
	};
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function dockerfile(n: number, layersPerImage: number): string {
	// Base layer + (layersPerImage - 1) steps, alternating RUN and COPY, each
	// writing a small file that differs per image.
	const id = pad(n, 2);
	const lines = ['FROM local/busybox:1'];
	for (let s = 1; s < layersPerImage; s++) {
		if (s % 2 === 1) lines.push(`RUN mkdir -p /bench && echo "image ${id} step ${s}" > /bench/run-${s}.txt`);
		else lines.push(`COPY file-${s}.txt /bench/copy-${s}.txt`);
	}
	lines.push(`LABEL bench.image="${id}"`, 'CMD ["sh"]', '');
	return lines.join('\n');
}

async function build(dir: string, params: StateParams): Promise<Marker> {
	const phases: Record<string, number> = {};
	const T0 = Date.now();
	let t = T0;
	const phase = (name: string) => {
		const now = Date.now();
		phases[name] = (now - t) / 1000;
		log(`${name}: ${phases[name]!.toFixed(1)} s`);
		t = now;
	};

	fs.mkdirSync(dir, {recursive: true});
	const daemon = await startDockerd({driver: params.driver, dir});
	phase('start dockerd');
	try {
		const d = daemon.docker;
		const work = path.join(dir, 'work');
		fs.rmSync(work, {recursive: true, force: true});

		// 1. base image from a busybox-static rootfs
		d(['import', '-', 'local/busybox:1'], {input: busyboxRootfsTar(path.join(work, 'rootfs'))});
		phase('import base');

		// 2. images, legacy builder, a few in parallel
		const images: string[] = [];
		await pool(
			params.images,
			BUILD_CONCURRENCY,
			async i => {
				const n = i + 1;
				const ctx = path.join(work, `ctx-${pad(n, 2)}`);
				fs.mkdirSync(ctx, {recursive: true});
				for (let s = 2; s < params.layersPerImage; s += 2)
					fs.writeFileSync(path.join(ctx, `file-${s}.txt`), `image ${pad(n, 2)} copy ${s}\n`);
				fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile(n, params.layersPerImage));
				const tag = `bench/img-${pad(n, 2)}:1`;
				await dockerAsync(daemon, ['build', '-q', '-t', tag, '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
				images[i] = tag;
			},
			every(10, params.images, 'images built', t),
		);
		// Check the layer count of one image.
		const layers = JSON.parse(d(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', images[0]!])) as string[];
		if (layers.length !== params.layersPerImage)
			throw new Error(`${images[0]} has ${layers.length} layers, expected ${params.layersPerImage}`);
		phase('build images');

		// 3. containers, through the Engine API (much faster than one CLI process each)
		const ids: string[] = [];
		await pool(
			params.containers,
			API_CONCURRENCY,
			async i => {
				const n = i + 1;
				const image = images[i % images.length]!;
				const started = i < params.exited;
				const r = await api(daemon, 'POST', `/containers/create?name=c-${pad(n, 4)}`, {
					Image: image,
					Cmd: started ? ['true'] : ['sh', '-c', `echo container ${n}`],
					Labels: {'bench.container': String(n)},
					Env: [`BENCH_N=${n}`],
					HostConfig: {NetworkMode: 'none'},
				});
				ids[i] = (JSON.parse(r.body) as {Id: string}).Id;
			},
			every(500, params.containers, 'containers created', t),
		);
		phase('create containers');

		// 4. a few exited containers
		await pool(
			params.exited,
			API_CONCURRENCY,
			async i => {
				const id = ids[i]!;
				await api(daemon, 'POST', `/containers/${id}/start`);
				const w = JSON.parse((await api(daemon, 'POST', `/containers/${id}/wait`)).body) as {StatusCode: number};
				if (w.StatusCode !== 0) throw new Error(`container c-${pad(i + 1, 4)} exited with ${w.StatusCode}`);
			},
			every(25, params.exited, 'containers run', t),
		);
		phase('run containers');

		const count = d(['ps', '-aq']).split('\n').filter(Boolean).length;
		if (count !== params.containers)
			throw new Error(`daemon reports ${count} containers, expected ${params.containers}`);
		fs.rmSync(work, {recursive: true, force: true});
	} catch (e) {
		await daemon.stop();
		throw e;
	}
	await daemon.stop();
	const left = mountsUnder(dir);
	if (left.length) throw new Error(`mounts left under ${dir} after stopping dockerd: ${left.join(', ')}`);
	phase('stop dockerd');

	const marker: Marker = {params, builtAt: new Date().toISOString(), buildSeconds: (Date.now() - T0) / 1000, phases};
	fs.writeFileSync(path.join(dir, 'complete'), `${JSON.stringify(marker, null, 2)}\n`);
	return marker;
}

/** Make sure the state is in the cache (build it if not); return where it is. */
export async function ensureState(
	opts: {dir?: string; params?: StateParams; force?: boolean} = {},
): Promise<BenchState> {
	const dir = path.resolve(opts.dir ?? defaultCacheDir());
	const params = opts.params ?? DEFAULT_PARAMS;
	const root = path.join(dir, 'data');
	const marker = readMarker(dir);
	if (!opts.force && marker && sameParams(marker.params, params) && fs.existsSync(root)) {
		return {dir, root, params, built: false, buildSeconds: marker.buildSeconds};
	}
	if (fs.existsSync(dir)) {
		log(
			marker
				? opts.force
					? 'rebuild forced'
					: 'cached state has other parameters; rebuilding'
				: 'no complete state in the cache; (re)building',
		);
		wipe(dir);
	}
	log(
		`building ${params.images} images x ${params.layersPerImage} layers, ${params.containers} containers (${params.exited} exited), ${params.driver}, in ${dir}`,
	);
	const m = await build(dir, params);
	log(`done in ${m.buildSeconds.toFixed(1)} s; data root ${root}`);
	return {dir, root, params, built: true, buildSeconds: m.buildSeconds};
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	ensureState({force: process.argv.includes('--force')}).then(
		s => {
			process.stdout.write(`${s.root}\n`);
			if (!s.built) log(`already complete (built in ${s.buildSeconds.toFixed(1)} s earlier); use --force to rebuild`);
		},
		(e: unknown) => {
			process.stderr.write(`make-state: ${e instanceof Error ? e.message : String(e)}\n`);
			process.exit(1);
		},
	);
}
