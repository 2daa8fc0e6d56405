import {stripVTControlCharacters} from 'node:util';
import type {ReactElement} from 'react';
import {render} from 'ink-testing-library';

/** One macrotask: lets React flush effects (useInput subscribes in one) and Ink write the frame. */
export function tick(): Promise<void> {
	return new Promise(resolve => setImmediate(() => setTimeout(resolve, 0)));
}

export const keys = {
	up: '\u001B[A',
	down: '\u001B[B',
	right: '\u001B[C',
	left: '\u001B[D',
	pageUp: '\u001B[5~',
	pageDown: '\u001B[6~',
	enter: '\r',
	escape: '\u001B',
	tab: '\t',
	backspace: '\u007F',
	ctrlC: '\u0003',
} as const;

export type Rendered = ReturnType<typeof render> & {
	/** Sends each key (a string or a name from `keys`), waiting a macrotask after each. */
	press(...input: string[]): Promise<void>;
	/** The last frame, ANSI stripped, trailing spaces removed from each line. */
	frame(): string;
};

export async function renderApp(node: ReactElement): Promise<Rendered> {
	const r = render(node);
	await tick();
	return Object.assign(r, {
		async press(...input: string[]) {
			for (const k of input) {
				r.stdin.write(k in keys ? keys[k as keyof typeof keys] : k);
				await tick();
			}
		},
		frame() {
			return stripVTControlCharacters(r.lastFrame() ?? '')
				.split('\n')
				.map(l => l.trimEnd())
				.join('\n');
		},
	});
}
