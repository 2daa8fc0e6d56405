import {type Finding, type Severity, atLeast, compareFindings} from '../finding.ts';
import {byString} from '../sources/source.ts';
import {containerdChecks} from './containerd.ts';
import {containerChecks} from './containers.ts';
import {buildIndex} from './lookups.ts';
import {driverRecordChecks} from './driver-records.ts';
import {imageChecks} from './images.ts';
import {deepChecks} from './layer-content.ts';
import {layerChecks} from './layers.ts';
import {orphanChecks} from './orphans.ts';
import type {Check, CheckContext, CheckInput, CheckResult, CheckStatus, ObjectKind} from './types.ts';

export type {Check, CheckInput, CheckResult, CheckStatus, ObjectKind} from './types.ts';

/** Every check, in report order. Deep ones run only with --deep. */
export const checks: readonly Check[] = [
	...imageChecks,
	...layerChecks,
	...driverRecordChecks,
	...deepChecks,
	...containerChecks,
	...orphanChecks,
	...containerdChecks,
];

/** The pseudo-check that lists, per object, what reading and linking found and no check claimed. */
const readCheck = {id: 'read', title: "the object's files could be read, parsed and linked"} as const;

export type ObjectReport = {
	readonly subject: string;
	readonly kind: ObjectKind;
	/** Tags, name or cache id: what a person recognises it by. */
	readonly label: string;
	readonly status: CheckStatus;
	readonly checks: readonly CheckResult[];
};

export type CheckSummary = {
	readonly error: number;
	readonly warning: number;
	readonly info: number;
	readonly passed: number;
	readonly failed: number;
	readonly skipped: number;
	readonly objects: number;
};

export type CheckReport = {
	readonly root: string;
	readonly deep: boolean;
	readonly objects: readonly ObjectReport[];
	/** Every finding once, sorted (model findings included). */
	readonly findings: readonly Finding[];
	readonly summary: CheckSummary;
};

export type CheckOptions = {
	readonly deep?: boolean;
	readonly progress?: ((message: string) => void) | undefined;
	/** Run only these checks (ids); default all. */
	readonly only?: readonly string[];
};

const kindOrder: Record<ObjectKind, number> = {root: 0, store: 1, image: 2, layer: 3, container: 4, mount: 5, other: 6};

export function kindOf(subject: string): ObjectKind {
	if (subject === 'root') return 'root';
	const prefix = subject.slice(0, subject.indexOf(':'));
	return prefix === 'store' || prefix === 'image' || prefix === 'layer' || prefix === 'container' || prefix === 'mount'
		? prefix
		: 'other';
}

const findingKey = (f: Finding): string => `${f.severity}\0${f.code}\0${f.subject}\0${f.path ?? ''}\0${f.message}`;

function context(input: CheckInput, opts: CheckOptions): CheckContext {
	return {
		...input,
		deep: opts.deep ?? false,
		progress: opts.progress,
		index: buildIndex(input.source, input.raw, input.model),
	};
}

function selected(opts: CheckOptions, deep: boolean): Check[] {
	return checks.filter(c => (deep || !c.deep) && (opts.only === undefined || opts.only.includes(c.id)));
}

/** Puts the model's findings into the results that claim them, the rest into 'read', and groups everything by object. */
function assemble(input: CheckInput, deep: boolean, ran: Array<{check: Check; results: CheckResult[]}>): CheckReport {
	const {model} = input;
	const pending = new Map<string, Finding[]>();
	const seenModel = new Set<string>();
	for (const f of model.findings) {
		const k = findingKey(f);
		if (seenModel.has(k)) continue;
		seenModel.add(k);
		const list = pending.get(f.subject) ?? [];
		list.push(f);
		pending.set(f.subject, list);
	}
	const bySubject = new Map<string, CheckResult[]>();
	const add = (r: CheckResult): void => {
		const list = bySubject.get(r.subject) ?? [];
		list.push(r);
		bySubject.set(r.subject, list);
	};
	for (const {check, results} of ran) {
		for (const r of results) {
			let findings = r.findings;
			const open = check.claims.length > 0 ? pending.get(r.subject) : undefined;
			if (open !== undefined) {
				const mine = open.filter(f => check.claims.includes(f.code));
				if (mine.length > 0) {
					findings = [...mine, ...findings];
					pending.set(
						r.subject,
						open.filter(f => !mine.includes(f)),
					);
				}
			}
			const unique = [...new Map(findings.map(f => [findingKey(f), f])).values()].sort(compareFindings);
			const status: CheckStatus = unique.length > 0 ? 'fail' : r.status === 'fail' ? 'pass' : r.status;
			add({...r, status, findings: unique});
		}
	}
	// Objects of the model and everything with a finding get a 'read' result.
	const subjects = new Set<string>(bySubject.keys());
	for (const i of model.images) subjects.add(`image:${i.id}`);
	for (const l of model.layers) subjects.add(`layer:${l.chainId}`);
	for (const c of model.containers) subjects.add(`container:${c.id}`);
	for (const s of pending.keys()) subjects.add(s);
	for (const s of subjects) {
		const left = (pending.get(s) ?? []).sort(compareFindings);
		const r: CheckResult =
			left.length > 0
				? {subject: s, check: readCheck.id, status: 'fail', findings: left}
				: {subject: s, check: readCheck.id, status: 'pass', findings: []};
		bySubject.set(s, [r, ...(bySubject.get(s) ?? [])]);
	}
	const labels = labelsOf(input);
	const objects: ObjectReport[] = [...bySubject.entries()]
		.map(([subject, results]) => {
			const status: CheckStatus = results.some(r => r.status === 'fail')
				? 'fail'
				: results.every(r => r.status === 'skipped')
					? 'skipped'
					: 'pass';
			return {subject, kind: kindOf(subject), label: labels.get(subject) ?? '', status, checks: results};
		})
		.sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || byString(a.subject, b.subject));
	return finish(model.root, deep, objects);
}

/** The report of these objects: every finding once, sorted, and the counts. */
function finish(root: string, deep: boolean, objects: ObjectReport[]): CheckReport {
	const all = new Map<string, Finding>();
	for (const o of objects) for (const r of o.checks) for (const f of r.findings) all.set(findingKey(f), f);
	const findings = [...all.values()].sort(compareFindings);
	const count = (s: Severity): number => findings.filter(f => f.severity === s).length;
	const results = objects.flatMap(o => o.checks);
	return {
		root,
		deep,
		objects,
		findings,
		summary: {
			error: count('error'),
			warning: count('warning'),
			info: count('info'),
			passed: results.filter(r => r.status === 'pass').length,
			failed: results.filter(r => r.status === 'fail').length,
			skipped: results.filter(r => r.status === 'skipped').length,
			objects: objects.length,
		},
	};
}

function labelsOf(input: CheckInput): Map<string, string> {
	const out = new Map<string, string>();
	for (const i of input.model.images) {
		const name = i.tags.length > 0 ? i.tags.join(', ') : i.digests.length > 0 ? i.digests.join(', ') : '<none>';
		out.set(`image:${i.id}`, `${name}${i.dangling ? ' (dangling)' : i.intermediate ? ' (intermediate)' : ''}`);
	}
	for (const l of input.model.layers)
		out.set(`layer:${l.chainId}`, l.path ?? (l.cacheId === null ? '' : `${l.driver} ${l.cacheId}`));
	for (const c of input.model.containers) out.set(`container:${c.id}`, c.name ?? '');
	for (const d of input.raw.stores.keys()) out.set(`store:${d}`, `image/${d}`);
	return out;
}

/** The cheap checks only (no layer contents), synchronously: for views that want findings on their nodes. */
export function runFastChecks(input: CheckInput, opts: Omit<CheckOptions, 'deep'> = {}): CheckReport {
	const ctx = context(input, {...opts, deep: false});
	const ran: Array<{check: Check; results: CheckResult[]}> = [];
	for (const check of selected(opts, false)) {
		if (check.deep) continue;
		ran.push({check, results: check.run(ctx)});
	}
	return assemble(input, false, ran);
}

/** Runs every check (the deep ones too when opts.deep) and builds the report. */
export async function runChecks(input: CheckInput, opts: CheckOptions = {}): Promise<CheckReport> {
	const deep = opts.deep ?? false;
	const ctx = context(input, opts);
	const ran: Array<{check: Check; results: CheckResult[]}> = [];
	for (const check of selected(opts, deep)) {
		ran.push({check, results: check.deep ? await check.run(ctx) : check.run(ctx)});
	}
	return assemble(input, deep, ran);
}

/** Whether a report should fail a script: some finding at or above the level. */
export function failsAt(report: CheckReport, level: Severity): boolean {
	return report.findings.some(f => atLeast(f.severity, level));
}

/** The pseudo-check of the root-level findings about reading a live root (checks/look-again.ts). */
const liveCheck = {id: 'live', title: 'the root held still while it was read'} as const;

/**
 * The report with only the findings `keep` accepts (statuses and summary counted again) and
 * `extra` root-level findings added under the 'live' pseudo-check: what looking again at a live
 * root (checks/look-again.ts) leaves.
 */
export function reshapeReport(
	report: CheckReport,
	keep: (f: Finding) => boolean,
	extra: readonly Finding[],
): CheckReport {
	let objects: ObjectReport[] = report.objects.map(o => {
		const checks = o.checks.map(r => {
			const findings = r.findings.filter(keep);
			return findings.length === r.findings.length
				? r
				: ({...r, findings, status: findings.length > 0 ? 'fail' : 'pass'} as CheckResult);
		});
		const status: CheckStatus = checks.some(r => r.status === 'fail')
			? 'fail'
			: checks.every(r => r.status === 'skipped')
				? 'skipped'
				: 'pass';
		return {...o, status, checks};
	});
	if (extra.length > 0) {
		const live: CheckResult = {
			subject: 'root',
			check: liveCheck.id,
			status: 'fail',
			findings: [...extra].sort(compareFindings),
		};
		const at = objects.findIndex(o => o.subject === 'root');
		if (at >= 0) objects[at] = {...objects[at]!, status: 'fail', checks: [...objects[at]!.checks, live]};
		else objects = [{subject: 'root', kind: 'root', label: '', status: 'fail', checks: [live]}, ...objects];
	}
	return finish(report.root, report.deep, objects);
}
