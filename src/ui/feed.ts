/**
 * Where the interactive UI gets its model from, as a small store the UI subscribes to
 * (React's useSyncExternalStore in the Root component; the launcher too, before Ink is loaded).
 *
 * For a directory root a worker thread reads (load-worker.ts): first the containers, which the
 * tree's first frame needs (phase 'partial'), then the whole model ('full'), while this thread
 * imports Ink and draws. An archive is read in this thread (a tar Source reads the archive as
 * it goes; opening it twice would read it twice), after the first frame, blocking: as before.
 * When the worker cannot start or fails, the model is read in this thread the same way.
 */
import {Worker} from 'node:worker_threads';
import type {Model} from '../model/types.ts';
import type {ReadParts} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
import {type ContainerDetails, makeContainerDetails} from './container-details.ts';
import type {WorkerInput, WorkerMessage} from './load-worker.ts';
import {type PackedPiece, joinPacked, unpackModel} from './pack.ts';
import {type LoadProgress, countingSource} from './progress.ts';

/** A model to show: `loading` while only the first step's containers are in. */
export type Shown = {
	readonly model: Model;
	readonly loading: boolean;
	/** For layer file listings. */
	readonly source: Source;
	/** Fills in a container's configs when the model left them out (worker); null when they are in. */
	readonly details: ContainerDetails | null;
};

export type FeedState =
	| {readonly phase: 'reading'; readonly progress: LoadProgress}
	| ({readonly phase: 'partial' | 'full'} & Shown)
	| {readonly phase: 'not-a-docker-root'}
	| {readonly phase: 'failed'; readonly error: Error};

export type ModelFeed = {
	readonly get: () => FeedState;
	readonly subscribe: (listener: () => void) => () => void;
	/** Called once the UI's first frame is on screen: an in-process feed reads now (blocking). */
	readonly start: () => void;
	/** Stops the worker, if one is still reading. */
	readonly close: () => void;
	/** How the model is being read: by a worker, or in this thread (archives; fallback). */
	readonly mode: () => 'worker' | 'in-process';
};

export type Load = (source: Source, parts: ReadParts) => {readonly model: Model; readonly isDockerRoot: boolean};

export type FeedOptions = {
	readonly source: Source;
	readonly parts: ReadParts;
	/** The in-process read (loadCheckedModel: the model and the fast checks' findings). */
	readonly load: Load;
	/**
	 * Progress of an in-process read, which blocks this thread (nothing else can draw meanwhile);
	 * called only while the loading screen is up.
	 */
	readonly onBlockingProgress?: (p: LoadProgress) => void;
	/** Read in a worker; default: when the source is a directory (and so is a root mounted in it). */
	readonly worker?: boolean;
	/** The worker script (tests); default: load-worker.js (or .ts under tsx) next to this file. */
	readonly workerUrl?: URL;
};

const zero: LoadProgress = {files: 0, dirs: 0, containers: 0, images: 0};

/**
 * How to start the worker script next to this module. Built, it is load-worker.js. Under tsx
 * (tests) it is TypeScript, and on Node 20 a worker's `--import tsx` does not reach its entry
 * module: a small bootstrap registers tsx's loader, then imports it.
 */
export function workerScript(
	url?: URL,
	name = 'load-worker',
): {
	readonly script: URL | string;
	readonly options: {eval?: boolean; execArgv: string[]};
} {
	const ts = (url ?? new URL(import.meta.url)).pathname.endsWith('.ts');
	const target = url ?? new URL(ts ? `./${name}.ts` : `./${name}.js`, import.meta.url);
	if (!ts) return {script: target, options: {execArgv: []}};
	const boot = `import('tsx/esm/api').then(tsx => { tsx.register(); return import(${JSON.stringify(target.href)}); })`;
	return {script: boot, options: {eval: true, execArgv: []}};
}

/** A feed's moving parts, shared by the in-process read and the worker. */
type Core = {
	readonly opts: FeedOptions;
	readonly listeners: Set<() => void>;
	state: FeedState;
	mode: 'worker' | 'in-process';
	started: boolean;
	worker: Worker | null;
};

function set(f: Core, next: FeedState): void {
	f.state = next;
	for (const l of [...f.listeners]) l();
}

function settled(f: Core): boolean {
	return f.state.phase === 'full' || f.state.phase === 'not-a-docker-root' || f.state.phase === 'failed';
}

/** Reads the root in this thread (an archive; the worker failed), reporting progress through onBlockingProgress. */
function readHere(f: Core): void {
	if (f.started || settled(f)) return;
	f.started = true;
	const opts = f.opts;
	try {
		const report = opts.onBlockingProgress;
		const source =
			report === undefined ? opts.source : countingSource(opts.source, p => f.state.phase === 'reading' && report(p));
		const loaded = opts.load(source, opts.parts);
		set(
			f,
			loaded.isDockerRoot
				? {phase: 'full', model: loaded.model, loading: false, source: opts.source, details: null}
				: {phase: 'not-a-docker-root'},
		);
	} catch (error) {
		set(f, {phase: 'failed', error: error instanceof Error ? error : new Error(String(error))});
	}
}

function stopWorker(f: Core): void {
	const w = f.worker;
	f.worker = null;
	if (w !== null) void w.terminate();
}

/** The worker failed: read here instead (the same way an archive is read). */
function fallBack(f: Core): void {
	stopWorker(f);
	if (f.mode === 'in-process' || settled(f)) return;
	f.mode = 'in-process';
	setTimeout(() => readHere(f), 0);
}

/** What the worker says, in order: progress, the containers first, the rest in pieces, then the whole model. */
function onWorkerMessage(
	f: Core,
	m: WorkerMessage,
	pieces: PackedPiece[],
	show: (model: Model, loading: boolean) => FeedState,
): void {
	if (f.mode !== 'worker' || settled(f)) return;
	switch (m.type) {
		case 'progress':
			if (f.state.phase === 'reading') set(f, {phase: 'reading', progress: m.progress});
			return;
		case 'first':
			set(f, show(unpackModel(m.model), true));
			return;
		case 'piece':
			pieces.push(m.piece);
			// The next piece after a turn of the event loop: keys are handled in between.
			setImmediate(() => f.worker?.postMessage('next'));
			return;
		case 'full': {
			stopWorker(f);
			// Unpacking and redrawing in separate steps: keys can be handled in between.
			const model = unpackModel(joinPacked(pieces, m.model));
			pieces.length = 0;
			setImmediate(() => f.mode === 'worker' && !settled(f) && set(f, show(model, false)));
			return;
		}
		case 'not-a-docker-root':
			set(f, {phase: 'not-a-docker-root'});
			stopWorker(f);
			return;
		case 'error':
			fallBack(f);
	}
}

/** Starts the worker that reads a directory root; on any failure to start, the feed stays in-process. */
function startWorker(f: Core): void {
	const opts = f.opts;
	const mounted = opts.source.mounted;
	const {script, options} = workerScript(opts.workerUrl);
	const details = makeContainerDetails(opts.source);
	const show = (model: Model, loading: boolean): FeedState => ({
		phase: loading ? 'partial' : 'full',
		model,
		loading,
		source: opts.source,
		details,
	});
	const pieces: PackedPiece[] = [];
	try {
		// The worker opens the roots itself: the Docker root, and the containerd root (--containerd-root) mounted in it.
		const input: WorkerInput = {
			root: opts.source.location,
			parts: opts.parts,
			...(mounted !== undefined ? {mount: {at: mounted.at, location: mounted.location}} : {}),
		};
		// stdout/stderr: true keeps anything the worker might print (a warning) off the screen.
		const worker = new Worker(script, {...options, workerData: input, stdout: true, stderr: true});
		f.worker = worker;
		f.mode = 'worker';
		worker.on('message', (m: WorkerMessage) => onWorkerMessage(f, m, pieces, show));
		worker.on('error', () => fallBack(f));
		worker.on('exit', () => {
			if (f.worker !== null) fallBack(f);
		});
	} catch {
		f.worker = null;
		f.mode = 'in-process';
	}
}

export function startFeed(opts: FeedOptions): ModelFeed {
	const f: Core = {
		opts,
		listeners: new Set(),
		state: {phase: 'reading', progress: zero},
		mode: 'in-process',
		started: false,
		worker: null,
	};
	const mounted = opts.source.mounted;
	if (opts.worker ?? (opts.source.kind === 'dir' && (mounted === undefined || mounted.kind === 'dir'))) startWorker(f);
	return {
		get: () => f.state,
		subscribe(listener) {
			f.listeners.add(listener);
			return () => f.listeners.delete(listener);
		},
		start() {
			if (f.mode === 'in-process') readHere(f);
		},
		close: () => stopWorker(f),
		mode: () => f.mode,
	};
}
