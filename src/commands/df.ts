import {diskLedger} from '../disk/root-ledger.ts';
import {renderDf} from '../view/df-text.ts';
import {progressLine} from '../view/line.ts';
import {type CommandContext, json} from './context.ts';

/**
 * `layerlens df [-v] [--json]`: who owns every byte under the root, by category, with what is
 * reclaimable and how; -v (and JSON always) adds the per-object figures of `docker system df -v`.
 * A progress line goes to stderr, only on a terminal.
 */
export function dfCommand({args, loaded, io}: CommandContext): number {
	const tty = io.stderr.isTTY === true;
	const progress = tty
		? (entries: number, bytes: number) => io.stderr.write(progressLine(`df: ${entries} entries, ${bytes} bytes`))
		: undefined;
	const report = diskLedger(loaded, progress === undefined ? {} : {progress});
	if (tty) io.stderr.write('\r\x1b[K');
	io.stdout.write(args.json ? json(report) : renderDf(report, args.verbose));
	return 0;
}
