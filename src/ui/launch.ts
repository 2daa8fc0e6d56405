/**
 * Starts the interactive UI: the only file in src/ that loads Ink, React and the components,
 * and only when cli.ts imports it (dynamically), so plain commands never load them.
 *
 * Ink 6 has no alternate-screen option: we enter it before the first frame and leave it after
 * the UI exits, on SIGTERM/SIGHUP, and on an uncaught error, so the terminal is always restored.
 * The first frame (the loading line) is written before Ink is even imported: importing Ink
 * takes a noticeable part of a second.
 */
import {type Loaded, loadModel} from '../load.ts';
import {type ReadParts, allParts} from '../read/host.ts';
import type {Source} from '../read/source.ts';
import {clean} from '../view/sanitize.ts';
import {type LoadProgress, countingSource, loadingLines, loadingUpdate} from './progress.ts';

export const enterAltScreen = '\u001B[?1049h\u001B[2J\u001B[H';
export const leaveAltScreen = '\u001B[?25h\u001B[?1049l';
const hideCursor = '\u001B[?25l';

export type InteractiveOptions = {
	readonly source: Source;
	/** The root as the user gave it (shown while loading). */
	readonly root: string;
	readonly sample: boolean;
	readonly parts?: ReadParts;
	readonly load?: (source: Source, parts: ReadParts) => Loaded;
};

export type InteractiveResult = 'ok' | 'not-a-docker-root';

const signals = {SIGTERM: 15, SIGHUP: 1} as const;

/**
 * React's development build (the default when NODE_ENV is unset) makes every redraw about twice
 * as slow; a user's terminal wants the production one. Must run before React is first imported.
 */
export function preferProductionReact(): void {
	if (process.env['NODE_ENV'] === undefined) process.env['NODE_ENV'] = 'production';
}

export async function runInteractive(opts: InteractiveOptions): Promise<InteractiveResult> {
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
		const message = error instanceof Error ? error.message : String(error);
		process.stderr.write(`layerlens: internal error: ${clean(message)} (please report it)\n`);
		process.exit(3);
	};
	process.on('uncaughtException', onCrash);
	process.on('unhandledRejection', onCrash);

	const root = clean(opts.root);
	const width = () => process.stdout.columns || 80;
	const zero: LoadProgress = {files: 0, dirs: 0, containers: 0, images: 0};
	const [spin, counts] = loadingLines(root, zero, 0, width());
	process.stdout.write(`${enterAltScreen}${hideCursor}\n${spin}\n${counts}\u001B[H`);
	let result: InteractiveResult = 'ok';
	const load = opts.load ?? loadModel;
	try {
		preferProductionReact();
		const [{render}, {createElement}, {Root}] = await Promise.all([import('ink'), import('react'), import('../../components/Root.tsx')]);
		let frame = 0;
		const instance = render(
			createElement(Root, {
				root,
				sample: opts.sample,
				load: () => {
					const loaded = load(
						countingSource(opts.source, p => process.stdout.write(loadingUpdate(root, p, ++frame, width()))),
						opts.parts ?? allParts,
					);
					// Layer listings read through the plain source, not the counting one.
					return {...loaded, source: opts.source};
				},
				onNotDockerRoot: () => {
					result = 'not-a-docker-root';
				},
			}),
			{exitOnCtrlC: false, patchConsole: false},
		);
		unmount = () => instance.unmount();
		await instance.waitUntilExit();
	} finally {
		leave();
		for (const [name, handler] of handlers) process.off(name, handler);
		process.off('uncaughtException', onCrash);
		process.off('unhandledRejection', onCrash);
	}
	return result;
}
