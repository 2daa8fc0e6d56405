import {Chalk, type ChalkInstance} from 'chalk';

/** Semantic colours for text output; level 0 gives plain text. renderLines (line.ts) applies them to segments already cleaned. */
export type Paint = {
	readonly title: (s: string) => string;
	readonly dim: (s: string) => string;
	readonly id: (s: string) => string;
	readonly role: (s: string) => string;
	readonly error: (s: string) => string;
	readonly warning: (s: string) => string;
	readonly info: (s: string) => string;
	readonly ok: (s: string) => string;
};

export function makePaint(level: 0 | 1 | 2 | 3): Paint {
	const c: ChalkInstance = new Chalk({level});
	return {
		title: s => c.bold(s),
		dim: s => c.dim(s),
		id: s => c.cyan(s),
		role: s => c.magenta(s),
		error: s => c.red(s),
		warning: s => c.yellow(s),
		info: s => c.blue(s),
		ok: s => c.green(s),
	};
}

export const plain: Paint = makePaint(0);
