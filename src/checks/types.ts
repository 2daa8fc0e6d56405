import type {Finding} from '../finding.ts';
import type {Model} from '../model/types.ts';
import type {RawHost} from '../read/host.ts';
import type {Source} from '../sources/source.ts';
import type {Index} from './lookups.ts';

/** What every check may look at: the open root, what the readers found, and the linked model. */
export type CheckInput = {
	readonly source: Source;
	readonly raw: RawHost;
	readonly model: Model;
};

export type CheckContext = CheckInput & {
	readonly deep: boolean;
	/** Called now and then during long work (deep verification), with one line of status. */
	readonly progress?: ((message: string) => void) | undefined;
	/** Lookups shared by the checks, computed once. */
	readonly index: Index;
};

export type CheckStatus = 'pass' | 'fail' | 'skipped';

/** One check's verdict on one object. */
export type CheckResult = {
	/** The object it is listed under ('image:sha256:…', 'layer:sha256:…', 'container:<id>', 'store:<driver>', 'root'). */
	readonly subject: string;
	/** The check's id. */
	readonly check: string;
	/** 'fail' when it has findings (of any severity), 'skipped' when it could not run (see note). */
	readonly status: CheckStatus;
	readonly findings: readonly Finding[];
	/** Why it was skipped, or what it looked at. */
	readonly note?: string;
};

export type ObjectKind = 'root' | 'store' | 'image' | 'layer' | 'container' | 'mount' | 'other';

type CheckBase = {
	/** Stable id, shown in the report ('image.id', 'layer.chain-id', …). */
	readonly id: string;
	/** What it verifies, in a few words. */
	readonly title: string;
	/** The kind of object its results are listed under. */
	readonly objects: ObjectKind;
	/** Codes it produces. */
	readonly codes: readonly string[];
	/** Codes found while reading and linking (model.findings) that it reports as its own, for the objects it lists. */
	readonly claims: readonly string[];
};

/**
 * A check is data: an id, what it covers, and a run function from the context to results.
 * Deep checks (they read layer contents) are async; the others are synchronous and cheap.
 */
export type Check =
	| (CheckBase & {readonly deep: false; run(ctx: CheckContext): CheckResult[]})
	| (CheckBase & {readonly deep: true; run(ctx: CheckContext): Promise<CheckResult[]>});

export function pass(subject: string, check: string, note?: string): CheckResult {
	return note === undefined
		? {subject, check, status: 'pass', findings: []}
		: {subject, check, status: 'pass', findings: [], note};
}

export function skipped(subject: string, check: string, note: string): CheckResult {
	return {subject, check, status: 'skipped', findings: [], note};
}

/** A result from the findings a check made: 'fail' when there are any, else 'pass'. */
export function verdict(subject: string, check: string, findings: readonly Finding[], note?: string): CheckResult {
	const status = findings.length > 0 ? 'fail' : 'pass';
	return note === undefined ? {subject, check, status, findings} : {subject, check, status, findings, note};
}
