/**
 * Progress while a root is read: a Source wrapper that counts what the readers open, so the
 * loader needs no hooks of its own. Pure apart from the clock passed in.
 */
import type {Source} from '../sources/source.ts';
import {seg} from './text.ts';

export type LoadProgress = {
	readonly files: number;
	readonly dirs: number;
	readonly containers: number;
	readonly images: number;
};

const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

/**
 * Wraps a Source; calls `report` at most every `everyMs` (and never more often than the
 * clock allows) with running counts: files read, directories listed, container configs, image configs.
 */
export function countingSource(
	source: Source,
	report: (p: LoadProgress) => void,
	everyMs = 50,
	now: () => number = () => performance.now(),
): Source {
	let files = 0;
	let dirs = 0;
	let containers = 0;
	let images = 0;
	let last = now();
	const tick = () => {
		const t = now();
		if (t - last < everyMs) return;
		last = t;
		report({files, dirs, containers, images});
	};
	return {
		kind: source.kind,
		location: source.location,
		list(rel) {
			dirs++;
			tick();
			return source.list(rel);
		},
		stat: rel => source.stat(rel),
		readFile(rel, maxBytes) {
			files++;
			if (/^containers\/[^/]+\/config\.v2\.json$/.test(rel)) containers++;
			else if (/^image\/[^/]+\/imagedb\/content\/sha256\/[^/]+$/.test(rel)) images++;
			tick();
			return source.readFile(rel, maxBytes);
		},
		readLink: rel => source.readLink(rel),
		// What the loader reads from the source itself: a mounted root (--containerd-root) and archive damage.
		...(source.mounted !== undefined ? {mounted: source.mounted} : {}),
		...((source as {problems?: string[]}).problems !== undefined
			? {problems: (source as {problems?: string[]}).problems}
			: {}),
	};
}

function progressText(p: LoadProgress): string {
	return `${p.containers} container configs, ${p.images} image configs, ${p.files} files read, ${p.dirs} directories listed`;
}

/** The loading screen's two lines (line 2 and 3 of the screen; line 1 is blank). */
export function loadingLines(root: string, p: LoadProgress, frame: number, width: number): [string, string] {
	const spin = spinnerFrames[frame % spinnerFrames.length]!;
	const cut = (s: string) => ([...s].length > width ? `${[...s].slice(0, Math.max(0, width - 1)).join('')}…` : s);
	return [cut(seg(` ${spin} reading ${root}`).text), cut(`   ${progressText(p)}`)];
}

/**
 * The same two lines as terminal output written directly, for use while a synchronous read
 * blocks the event loop (Ink cannot draw then): saves the cursor, draws lines 2-3, restores it.
 */
export function loadingUpdate(root: string, p: LoadProgress, frame: number, width: number): string {
	const [a, b] = loadingLines(root, p, frame, width);
	return `\u001B7\u001B[2;1H${a}\u001B[K\u001B[3;1H${b}\u001B[K\u001B8`;
}
