/**
 * Starts the interactive UI, and only when cli.ts imports it (dynamically), so plain commands
 * never load Ink or React.
 *
 * The UI's home: components/ holds everything that loads Ink and React (this launcher and the
 * components it renders); src/ui/ holds the explorer's pure parts (tree rows, navigation reducer,
 * key table, detail text, the load feed and its worker, the opening frame drawn before Ink),
 * which import nothing from components/ and can be tested without a terminal. Two folders rather
 * than one because the pure parts belong to src/'s one-way flow (they build on the model, teach
 * and views, and the opening frame is drawn from them before Ink is in), while this side is the
 * only one that needs Ink: src/ (readers → model → views → src/ui) → components/ → the terminal
 * (test/properties/layering.ts enforces it).
 *
 * Ink 6 has no alternate-screen option: we enter it before the first frame and leave it after
 * the UI exits, on SIGTERM/SIGHUP, and on an uncaught error, so the terminal is always restored.
 *
 * Importing Ink and React takes most of a second, and reading a large root longer: a worker
 * thread reads (feed.ts), the containers first. Until Ink is in, this file draws directly: the
 * loading line, then the tree's opening frame (plain-frame.ts) as soon as the worker has sent
 * the containers; Ink is imported from then on (inkTime), while the worker reads the rest. Keys
 * typed meanwhile wait (raw mode, no echo) and are handled when Ink takes over.
 */
import {loadCheckedModel} from '../src/load.ts';
import {type ReadParts, allParts} from '../src/read/host.ts';
import type {Source} from '../src/sources/source.ts';
import {type Load, type ModelFeed, startFeed} from '../src/ui/feed.ts';
import {makeFileLister} from '../src/ui/layer-files.ts';
import {type LedgerRunner, ledgerRunner} from '../src/ui/ledger-feed.ts';
import {plainFrame} from '../src/ui/plain-frame.ts';
import {type LoadProgress, loadingLines, loadingUpdate} from '../src/ui/progress.ts';
import {message} from '../src/view/line.ts';

const enterAltScreen = '\u001B[?1049h\u001B[2J\u001B[H';
const leaveAltScreen = '\u001B[?25h\u001B[?1049l';
const hideCursor = '\u001B[?25l';

export type InteractiveOptions = {
	readonly source: Source;
	/** The root as the user gave it (shown while loading). */
	readonly root: string;
	readonly sample: boolean;
	/** Draw colour (default true): the CLI passes its one colour decision (colorOn), so NO_COLOR and --no-color hold here too. */
	readonly color?: boolean;
	readonly parts?: ReadParts;
	/** The in-process read (default loadCheckedModel: the model and the fast checks' findings): for archives, and when the worker cannot run. */
	readonly load?: Load;
	/** Read in a worker thread; default: when the root is a directory. */
	readonly worker?: boolean;
};

export type InteractiveResult = 'ok' | 'not-a-docker-root';

const signals = {SIGTERM: 15, SIGHUP: 1} as const;

/**
 * React's development build (the default when NODE_ENV is unset) makes every redraw about twice
 * as slow; a user's terminal wants the production one. Must run before React is first imported.
 */
export function preferProductionReact(): void {
	if (process.env.NODE_ENV === undefined) process.env.NODE_ENV = 'production';
}

/** How long the import of Ink waits at most for the worker's first model (see inkTime). */
const inkWaitMs = 800;

/**
 * When to import Ink: it takes most of a second of CPU, and a worker reading the containers
 * for the first frame runs about half again as long beside it (two cores, and the import uses
 * helper threads too). So it starts once the first frame is drawn, or after inkWaitMs when the
 * containers take longer (a slow disk: the loading line is up meanwhile), or at once when the
 * model is read in this thread (an archive; the worker failed).
 */
function inkTime(feed: ModelFeed): Promise<void> {
	return new Promise(resolve => {
		let off = () => {};
		const go = () => {
			clearTimeout(timer);
			off();
			resolve();
		};
		const timer = setTimeout(go, inkWaitMs);
		const check = () => (feed.mode() !== 'worker' || feed.get().phase !== 'reading') && go();
		off = feed.subscribe(check);
		check();
	});
}

type Guard = {
	/** Leaves the alternate screen (once). */
	readonly leave: () => void;
	/** What a signal or a crash unmounts first (Ink, once it draws). */
	readonly onUnmount: (unmount: () => void) => void;
	/** Takes the signal and crash handlers off again. */
	readonly release: () => void;
};

/** The terminal is given back however the explorer ends: SIGTERM or SIGHUP (exit 128 + n), a crash (one line, exit 3), or its end. */
function guardTerminal(): Guard {
	let left = false;
	let unmount = () => {};
	const leave = () => {
		if (left) return;
		left = true;
		process.stdout.write(leaveAltScreen);
	};
	const handlers = Object.entries(signals).map(([name, number]) => {
		const handler = () => {
			unmount();
			leave();
			process.exit(128 + number);
		};
		process.once(name, handler);
		return [name, handler] as const;
	});
	const onCrash = (error: unknown) => {
		unmount();
		leave();
		const text = error instanceof Error ? error.message : String(error);
		process.stderr.write(message(`internal error: ${text} (please report it)`));
		process.exit(3);
	};
	process.on('uncaughtException', onCrash);
	process.on('unhandledRejection', onCrash);
	return {
		leave,
		onUnmount: f => {
			unmount = f;
		},
		release: () => {
			for (const [name, handler] of handlers) process.off(name, handler);
			process.off('uncaughtException', onCrash);
			process.off('unhandledRejection', onCrash);
		},
	};
}

type Screen = {readonly width: () => number; readonly nextFrame: () => number};

/**
 * Until Ink draws: the loading line's counts, then the tree's opening frame, redrawn on a resize.
 * Returns the function that hands the screen to Ink (idempotent).
 */
function drawUntilInk(feed: ModelFeed, opts: InteractiveOptions, screen: Screen): () => void {
	let inkDraws = false;
	const files = makeFileLister(opts.source);
	const drawEarly = () => {
		if (inkDraws) return;
		const s = feed.get();
		if (s.phase === 'reading')
			process.stdout.write(loadingUpdate(opts.root, s.progress, screen.nextFrame(), screen.width()));
		else if (s.phase === 'partial' || s.phase === 'full') {
			process.stdout.write(
				plainFrame({
					model: s.model,
					loading: s.loading,
					details: s.details,
					files,
					sample: opts.sample,
					color: opts.color ?? true,
					columns: screen.width(),
					rows: process.stdout.rows || 24,
				}),
			);
		}
	};
	const unsubscribe = feed.subscribe(drawEarly);
	const onResize = () => {
		if (feed.get().phase === 'partial' || feed.get().phase === 'full') drawEarly();
	};
	process.stdout.on('resize', onResize);
	return () => {
		inkDraws = true;
		unsubscribe();
		process.stdout.off('resize', onResize);
	};
}

/** Loads Ink and React (see inkTime) and runs the explorer until it exits; 'not-a-docker-root' when the feed says so first. */
async function showInk(
	feed: ModelFeed,
	opts: InteractiveOptions,
	guard: Guard,
	early: () => void,
	ledger: LedgerRunner,
): Promise<InteractiveResult> {
	let result: InteractiveResult = 'ok';
	preferProductionReact();
	const ui = inkTime(feed).then(() => Promise.all([import('ink'), import('react'), import('./Root.tsx')]));
	ui.catch(() => {}); // (when the race below is lost)
	// Not a Docker root, or a failed read, before Ink is in: no need to wait for it.
	let off = () => {};
	const over = new Promise<'over'>(resolve => {
		const check = () => (feed.get().phase === 'not-a-docker-root' || feed.get().phase === 'failed') && resolve('over');
		off = feed.subscribe(check);
		check();
	});
	const loaded = await Promise.race([ui, over]);
	off();
	early();
	if (loaded === 'over') {
		const s = feed.get();
		if (s.phase === 'failed') throw s.error;
		return 'not-a-docker-root';
	}
	const [{render}, {createElement}, {Root}] = loaded;
	const instance = render(
		createElement(Root, {
			root: opts.root,
			sample: opts.sample,
			color: opts.color ?? true,
			feed,
			ledger: ledger.run,
			onNotDockerRoot: () => {
				result = 'not-a-docker-root';
			},
		}),
		{exitOnCtrlC: false, patchConsole: false},
	);
	guard.onUnmount(() => instance.unmount());
	await instance.waitUntilExit();
	return result;
}

export async function runInteractive(opts: InteractiveOptions): Promise<InteractiveResult> {
	const guard = guardTerminal();
	let frame = 0;
	const screen: Screen = {width: () => process.stdout.columns || 80, nextFrame: () => ++frame};
	const zero: LoadProgress = {files: 0, dirs: 0, containers: 0, images: 0};
	const [spin, counts] = loadingLines(opts.root, zero, 0, screen.width());
	process.stdout.write(`${enterAltScreen}${hideCursor}\n${spin}\n${counts}\u001B[H`);
	const stdin = process.stdin;
	if (stdin.isTTY) stdin.setRawMode(true);
	const feed = startFeed({
		source: opts.source,
		parts: opts.parts ?? allParts,
		load: opts.load ?? loadCheckedModel,
		...(opts.worker !== undefined ? {worker: opts.worker} : {}),
		onBlockingProgress: p => process.stdout.write(loadingUpdate(opts.root, p, screen.nextFrame(), screen.width())),
	});
	const early = drawUntilInk(feed, opts, screen);
	const ledger = ledgerRunner(opts.source, opts.parts ?? allParts);
	try {
		return await showInk(feed, opts, guard, early, ledger);
	} finally {
		early();
		feed.close();
		ledger.close();
		if (stdin.isTTY) stdin.setRawMode(false);
		guard.leave();
		guard.release();
	}
}
