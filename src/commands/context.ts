import type {Args} from '../args.ts';
import type {Loaded} from '../load.ts';
import {makePaint, type Paint} from '../view/paint.ts';
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
	return `${safeJson(value, 2)}\n`;
}

/** The one colour decision: colour only on a terminal, unless --no-color or NO_COLOR (any non-empty value) says no. */
export function colorOn(args: Pick<Args, 'color'>, io: Io): boolean {
	return args.color && (io.env.NO_COLOR ?? '') === '' && io.stdout.isTTY === true;
}

/** The paint of text output, as colorOn decides. */
export function paintFor(args: Pick<Args, 'color'>, io: Io): Paint {
	return makePaint(colorOn(args, io) ? 1 : 0);
}

/** The usage error of a root that holds none of Docker's areas. */
export function notDockerRoot(root: string): UsageError {
	return new UsageError(`${root}: not a Docker root (no containers/, image/ or driver directories)`);
}
