import {failsAt, runChecks} from '../checks/index.ts';
import type {Severity} from '../finding.ts';
import type {Model} from '../model/types.ts';
import type {RawHost} from '../read/host.ts';
import type {Source} from '../read/source.ts';
import {makePaint} from '../view/paint.ts';
import {checkJson, renderCheck} from '../view/text-check.ts';
import {safeJson} from '../view/sanitize.ts';

export type CheckCommandOptions = {
	readonly source: Source;
	readonly raw: RawHost;
	readonly model: Model;
	/** Also verify layer contents against their diff ids (reads every layer file). */
	readonly deep: boolean;
	readonly json: boolean;
	/** Exit 1 when some finding is at or above this severity. */
	readonly failOn: Severity;
	readonly color: boolean;
	/** One line of status now and then during --deep (for a terminal's stderr). */
	readonly progress?: (message: string) => void;
};

export type CheckCommandResult = {readonly output: string; readonly exitCode: 0 | 1};

/**
 * `layerlens check`: runs the checks on a loaded root and renders the report. Async because
 * --deep streams tar-split files through zlib; without --deep it does no waiting.
 */
export async function checkCommand(opts: CheckCommandOptions): Promise<CheckCommandResult> {
	const report = await runChecks({source: opts.source, raw: opts.raw, model: opts.model}, {deep: opts.deep, progress: opts.progress});
	const output = opts.json ? safeJson(checkJson(report), 2) + '\n' : renderCheck(report, {paint: makePaint(opts.color ? 1 : 0)});
	return {output, exitCode: failsAt(report, opts.failOn) ? 1 : 0};
}
