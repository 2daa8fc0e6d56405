/**
 * Timings of the interactive UI for the benchmark: renders the App for a model into a fake
 * terminal (no TTY needed) and times the first frame and the redraw after each key.
 *
 *   const t = await measureUi(model, {width: 100, height: 30});
 *   t.firstFrameMs, t.keyMedianMs, t.keyMaxMs, t.keys  // [{key: 'j', ms: 1.2}, …]
 *
 * The first frame includes building the tree from the model and the first layout; it does not
 * include reading the root (time loadModel for that) nor importing Ink (done before the clock starts).
 * Like the real UI, it uses React's production build unless NODE_ENV is set.
 */
import {EventEmitter} from 'node:events';
import {preferProductionReact} from '../components/launch.ts';
import type {Model} from '../src/model/types.ts';
import type {Source} from '../src/sources/source.ts';
import type {ContainerDetails} from '../src/ui/container-details.ts';

export type MeasureOptions = {
	readonly width?: number;
	readonly height?: number;
	/** Key sequences to send in turn, as a terminal sends them; each must change the screen. */
	readonly keys?: readonly string[];
	/** For layer file listings; null (the default) lists nothing, so no disk access is timed. */
	readonly source?: Source | null;
	/**
	 * Fills in container configs left out of the model, as the real UI does with a model from
	 * its load worker (pack.ts, container-details.ts); this reads two files per container shown.
	 */
	readonly details?: ContainerDetails | null;
	/** Only the containers are in (the first step of reading). */
	readonly loading?: boolean;
};

export type UiTimings = {
	readonly firstFrameMs: number;
	readonly keys: ReadonlyArray<{readonly key: string; readonly ms: number}>;
	readonly keyMedianMs: number;
	readonly keyMaxMs: number;
};

/** Moves, pages, jumps to both ends, expands and walks a chain, scrolls the details, filters, help. */
export const defaultKeys: readonly string[] = [
	'j',
	'j',
	'j',
	'k',
	'\u001B[6~',
	'G',
	'g',
	'j',
	'\r',
	'l',
	'j',
	'j',
	'\t',
	'j',
	'\t',
	'f',
	'f',
	'?',
	'?',
	'h',
	'\r',
];

class FakeStdout extends EventEmitter {
	readonly isTTY = true;
	frames = 0;
	private waiter: (() => void) | null = null;
	readonly columns: number;
	readonly rows: number;
	constructor(columns: number, rows: number) {
		super();
		this.columns = columns;
		this.rows = rows;
	}
	write = (_frame: string): boolean => {
		this.frames++;
		const w = this.waiter;
		this.waiter = null;
		w?.();
		return true;
	};
	next(timeoutMs: number): Promise<boolean> {
		return new Promise(resolve => {
			const timer = setTimeout(() => {
				this.waiter = null;
				resolve(false);
			}, timeoutMs);
			this.waiter = () => {
				clearTimeout(timer);
				resolve(true);
			};
		});
	}
}

class FakeStdin extends EventEmitter {
	readonly isTTY = true;
	private data: string | null = null;
	feed(data: string): void {
		this.data = data;
		this.emit('readable');
		this.emit('data', data);
	}
	read = (): string | null => {
		const d = this.data;
		this.data = null;
		return d;
	};
	setEncoding() {}
	setRawMode() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
}

const macrotask = () => new Promise<void>(resolve => setImmediate(() => setTimeout(resolve, 0)));

export async function measureUi(model: Model, opts: MeasureOptions = {}): Promise<UiTimings> {
	// As the real UI does (launch.ts): React's production build, unless NODE_ENV says otherwise.
	preferProductionReact();
	const [{render}, {createElement}, {App}] = await Promise.all([
		import('ink'),
		import('react'),
		import('../components/App.tsx'),
	]);
	const stdout = new FakeStdout(opts.width ?? 100, opts.height ?? 30);
	const stdin = new FakeStdin();
	const stderr = new FakeStdout(opts.width ?? 100, opts.height ?? 30);
	const t0 = performance.now();
	const first = stdout.next(10_000);
	const props = {
		model,
		source: opts.source ?? null,
		details: opts.details ?? null,
		loading: opts.loading ?? false,
		width: stdout.columns,
		height: stdout.rows,
	};
	const instance = render(createElement(App, props), {
		stdout: stdout as unknown as NodeJS.WriteStream,
		stdin: stdin as unknown as NodeJS.ReadStream,
		stderr: stderr as unknown as NodeJS.WriteStream,
		debug: true,
		exitOnCtrlC: false,
		patchConsole: false,
	});
	if (!(await first)) throw new Error('measureUi: no first frame within 10 s');
	const firstFrameMs = performance.now() - t0;
	const keys: Array<{key: string; ms: number}> = [];
	try {
		await macrotask();
		for (const key of opts.keys ?? defaultKeys) {
			const drawn = stdout.next(5_000);
			const t = performance.now();
			stdin.feed(key);
			if (!(await drawn)) throw new Error(`measureUi: key ${JSON.stringify(key)} drew nothing`);
			keys.push({key, ms: performance.now() - t});
			await macrotask();
		}
	} finally {
		instance.unmount();
		instance.cleanup();
	}
	const sorted = keys.map(k => k.ms).sort((a, b) => a - b);
	return {
		firstFrameMs,
		keys,
		keyMedianMs: sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!,
		keyMaxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
	};
}
