import {stripVTControlCharacters} from 'node:util';
import type {ReactElement} from 'react';
import {render} from 'ink-testing-library';

/** One macrotask: lets React flush effects (useInput subscribes in one) and Ink write the frame. */
export function tick(): Promise<void> {
	return new Promise(resolve => setImmediate(() => setTimeout(resolve, 0)));
}

/**
 * After input: one macrotask, then until the frame has stayed the same for two short waits (at most
 * 300 ms). Ink may render a beat later on a loaded machine; a single tick then reads the old frame.
 */
async function settle(r: ReturnType<typeof render>): Promise<void> {
	await tick();
	const end = Date.now() + 300;
	let prev = r.lastFrame();
	let stable = 0;
	while (stable < 2 && Date.now() < end) {
		await new Promise(resolve => setTimeout(resolve, 4));
		const now = r.lastFrame();
		stable = now === prev ? stable + 1 : 0;
		prev = now;
	}
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
	/** Sends each key (a string or a name from `keys`), waiting after each until the frame settles. */
	press(...input: string[]): Promise<void>;
	/** The last frame, ANSI stripped, trailing spaces removed from each line. */
	frame(): string;
};

export async function renderApp(node: ReactElement): Promise<Rendered> {
	const r = render(node);
	await settle(r);
	return Object.assign(r, {
		async press(...input: string[]) {
			for (const k of input) {
				r.stdin.write(k in keys ? keys[k as keyof typeof keys] : k);
				await settle(r);
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
