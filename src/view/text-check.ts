import {append} from '../append.ts';
import type {CheckReport, CheckResult, ObjectKind, ObjectReport} from '../checks/index.ts';
import type {Finding} from '../finding.ts';
import {findingJson, schema} from './json.ts';
import {type Line, type Segment, renderLines, severitySeg, t, tone} from './line.ts';
import type {Paint} from './paint.ts';
import {shortId as modelShortId} from '../model/ids.ts';

/**
 * The `check` report as text: per kind of object, each object with a problem in full (its
 * failed and skipped checks with their findings, then the checks it passed), and the objects
 * that passed everything one per line (beyond `maxPassing` of a kind, only their count).
 */
export type CheckTextOptions = {
	readonly paint: Paint;
	/** Passing objects listed one per line, per kind, before they are only counted; default 50. */
	readonly maxPassing?: number;
};

const kindTitle: Record<ObjectKind, [string, string]> = {
	root: ['root', 'root'],
	store: ['store', 'stores'],
	image: ['image', 'images'],
	layer: ['layer', 'layers'],
	container: ['container', 'containers'],
	mount: ['mount', 'mounts'],
	other: ['object', 'other objects'],
};

/** "image 0d8659b02504", "store overlay2", "dir overlay2/abc…": short, for a person. */
function subjectText(subject: string): string {
	if (subject === 'root') return 'root';
	const colon = subject.indexOf(':');
	const kind = subject.slice(0, colon);
	const rest = subject.slice(colon + 1).replace(/^sha256:/, '');
	const id = /^[0-9a-f]{64}$/.test(rest) ? modelShortId(rest) : rest;
	return `${kind} ${id}`;
}

function worst(findings: readonly Finding[]): Finding['severity'] | undefined {
	if (findings.some(f => f.severity === 'error')) return 'error';
	if (findings.some(f => f.severity === 'warning')) return 'warning';
	return findings.length > 0 ? 'info' : undefined;
}

function mark(status: CheckResult['status'], findings: readonly Finding[]): Segment {
	if (status === 'skipped') return tone.dim('-');
	const w = worst(findings);
	if (w === 'error') return tone.error('✗');
	if (w === 'warning') return tone.warning('!');
	if (w === 'info') return tone.info('i');
	return tone.ok('✓');
}

function renderObject(o: ObjectReport): Line[] {
	const findings = o.checks.flatMap(c => c.findings);
	const head = t`  ${mark(o.status, findings)} ${tone.id(subjectText(o.subject))}${o.label === '' ? '' : `  ${o.label}`}`;
	if (o.status !== 'fail' && !o.checks.some(c => c.status === 'skipped')) return [head];
	const out: Line[] = [head];
	for (const c of o.checks) {
		if (c.status === 'pass') continue;
		out.push(
			t`      ${mark(c.status, c.findings)} ${c.check}${c.status === 'skipped' ? tone.dim(` skipped: ${c.note ?? ''}`) : ''}`,
		);
		for (const f of c.findings) {
			// Orphan directories are named by their path, which the message starts with.
			const other =
				f.subject !== o.subject && !f.subject.startsWith('dir:') ? t`${tone.id(subjectText(f.subject))}  ` : '';
			out.push(
				t`          ${severitySeg(f.severity)} ${f.code}  ${other}${f.message}${f.path !== undefined ? tone.dim(`  (${f.path})`) : ''}`,
			);
		}
	}
	const passed = o.checks.filter(c => c.status === 'pass').map(c => c.check);
	if (passed.length > 0) out.push(t`      ${tone.ok('✓')} ${tone.dim(passed.join(', '))}`);
	return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

function summaryText(report: CheckReport): string {
	const s = report.summary;
	return `${plural(s.error, 'error')}, ${plural(s.warning, 'warning')}, ${s.info} info; ${s.passed} checks passed, ${s.failed} failed, ${s.skipped} skipped on ${plural(s.objects, 'object')}`;
}

export function renderCheck(report: CheckReport, opts: CheckTextOptions): string {
	const maxPassing = opts.maxPassing ?? 50;
	const out: Line[] = [
		t`${tone.title('layerlens check')} ${report.root}${report.deep ? '  (deep: layer contents verified)' : '  (without --deep: layer contents not verified)'}`,
	];
	const kinds: ObjectKind[] = ['root', 'store', 'image', 'layer', 'container', 'mount', 'other'];
	for (const kind of kinds) {
		const objects = report.objects.filter(o => o.kind === kind);
		if (objects.length === 0) continue;
		const [one, many] = kindTitle[kind];
		out.push([], [tone.title(objects.length === 1 && kind === 'root' ? one : `${many} (${objects.length})`)]);
		const problems = objects.filter(o => o.status === 'fail' || o.checks.some(c => c.status === 'skipped'));
		const passing = objects.filter(o => !problems.includes(o));
		for (const o of problems) append(out, renderObject(o));
		for (const o of passing.slice(0, maxPassing)) append(out, renderObject(o));
		if (passing.length > maxPassing)
			out.push(
				t`  ${tone.ok('✓')} ${plural(passing.length - maxPassing, `more ${one}`, `more ${many}`)} passed every check (--json lists them)`,
			);
	}
	const s = report.summary;
	const line = summaryText(report);
	out.push([], [s.error > 0 ? tone.error(line) : s.warning > 0 ? tone.warning(line) : tone.ok(line)]);
	return renderLines(out, opts.paint);
}

/** The `check --json` document (schema 1). */
export function checkJson(report: CheckReport) {
	return {
		schema,
		root: report.root,
		deep: report.deep,
		summary: report.summary,
		objects: report.objects.map(o => ({
			subject: o.subject,
			kind: o.kind,
			label: o.label,
			status: o.status,
			checks: o.checks.map(c => ({
				check: c.check,
				status: c.status,
				...(c.note !== undefined ? {note: c.note} : {}),
				findings: c.findings.map(findingJson),
			})),
		})),
		findings: report.findings.map(findingJson),
	};
}
