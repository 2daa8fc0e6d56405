import {type CheckReport, failsAt, reshapeReport, runChecks} from '../checks/index.ts';
import {type Read, lookAgain} from '../checks/look-again.ts';
import type {Severity} from '../finding.ts';
import {type Liveness, type Signature, signature} from '../sources/live.ts';
import type {Model} from '../model/types.ts';
import type {RawHost} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
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
	/**
	 * To look again before calling a live root broken (checks/look-again.ts): whether the root is
	 * live, its signature from before the model was read, and how to read it again.
	 */
	readonly lookAgain?: {
		readonly live: Liveness;
		readonly before: Signature;
		readonly reload: () => {readonly source: Source; readonly raw: RawHost; readonly model: Model};
		/** Pause before each new read (default 300 ms). */
		readonly pauseMs?: number;
	};
};

export type CheckCommandResult = {readonly output: string; readonly exitCode: 0 | 1};

/**
 * `layerlens check`: runs the checks on a loaded root and renders the report. Async because
 * --deep streams tar-split files through zlib; without --deep it does no waiting.
 */
export async function checkCommand(opts: CheckCommandOptions): Promise<CheckCommandResult> {
	let report = await runChecks(
		{source: opts.source, raw: opts.raw, model: opts.model},
		{deep: opts.deep, progress: opts.progress},
	);
	const la = opts.lookAgain;
	if (la !== undefined) {
		const perContainer = la.live.live;
		const read = async (
			input: {readonly source: Source; readonly raw: RawHost; readonly model: Model},
			before: Signature,
			r?: CheckReport,
		): Promise<Read<CheckReport>> => {
			const value =
				r ??
				(await runChecks(
					{source: input.source, raw: input.raw, model: input.model},
					{deep: opts.deep, progress: opts.progress},
				));
			return {value, findings: value.findings, before, after: signature(opts.source, perContainer)};
		};
		const first = await read(opts, la.before, report);
		// Findings that fail the check are looked at again; warnings too, since a mid-operation state shows as both.
		const level: Severity = opts.failOn === 'info' ? 'info' : 'warning';
		const r = await lookAgain(
			first,
			async () => {
				const before = signature(opts.source, perContainer);
				return read(la.reload(), before);
			},
			{live: la.live, level, ...(la.pauseMs === undefined ? {} : {pauseMs: la.pauseMs})},
		);
		if (r.reads > 1 || r.extra.length > 0) report = reshapeReport(r.value, r.keep, r.extra);
	}
	const output = opts.json
		? `${safeJson(checkJson(report), 2)}\n`
		: renderCheck(report, {paint: makePaint(opts.color ? 1 : 0)});
	return {output, exitCode: failsAt(report, opts.failOn) ? 1 : 0};
}
