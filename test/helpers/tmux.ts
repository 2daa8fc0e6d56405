import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Whether tmux can be run here. */
export function hasTmux(): boolean {
	return spawnSync('tmux', ['-V'], {encoding: 'utf8'}).status === 0;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * A detached tmux session on a private server (its own -L socket, so nothing else's sessions are
 * touched), driven like a user: send keys, capture the screen as text.
 */
export class TmuxSession {
	readonly socket = `layerlens-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
	readonly name = 'll';

	constructor(command: string, width: number, height: number) {
		// CI must not reach the program: Ink then writes only its last frame.
		this.tmux('new-session', '-d', '-s', this.name, '-x', String(width), '-y', String(height), `env -u CI ${command}`);
	}

	tmux(...args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, ...args], {
			encoding: 'utf8',
			env: {...process.env, CI: undefined, TMUX: undefined},
		});
	}

	/** Keys by tmux name (Enter, Escape, Down, C-c, …). */
	keys(...keys: string[]): void {
		this.tmux('send-keys', '-t', this.name, ...keys);
	}

	/** Text typed literally. */
	type(text: string): void {
		this.tmux('send-keys', '-t', this.name, '-l', text);
	}

	capture(): string {
		return this.tmux('capture-pane', '-p', '-t', this.name);
	}

	resize(width: number, height: number): void {
		this.tmux('resize-window', '-t', this.name, '-x', String(width), '-y', String(height));
	}

	/** Waits until the screen matches; returns it, or throws with the last screen. */
	async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
		const end = Date.now() + timeoutMs;
		let screen = '';
		while (Date.now() < end) {
			screen = this.capture();
			if (pattern.test(screen)) return screen;
			await sleep(50);
		}
		throw new Error(`timed out waiting for ${pattern} on:\n${screen}`);
	}

	kill(): void {
		try {
			this.tmux('kill-server');
		} catch {
			// Already gone.
		}
		// tmux leaves its socket file behind.
		const dir = path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`);
		fs.rmSync(path.join(dir, this.socket), {force: true});
	}
}
