import type {Args} from '../args.ts';
import type {Loaded} from '../load.ts';
import type {Paint} from '../view/paint.ts';
import {safeJson} from '../view/sanitize.ts';

export type Io = {
	readonly stdout: {write(s: string): unknown; readonly isTTY?: boolean};
	/** Only its isTTY is read: the interactive UI starts when both stdin and stdout are terminals. */
	readonly stdin?: {readonly isTTY?: boolean};
	readonly stderr: {write(s: string): unknown; readonly isTTY?: boolean};
	readonly env: Readonly<Record<string, string | undefined>>;
};

/** What every command gets: its arguments, the loaded root, where to write, and colours. */
export type CommandContext = {
	readonly args: Args;
	readonly loaded: Loaded;
	readonly io: Io;
	readonly paint: Paint;
};

/** A usage error: one line on stderr, exit 2. */
export class UsageError extends Error {}

export function json(value: unknown): string {
	return safeJson(value, 2) + '\n';
}
