import {append} from '../append.ts';
import type {CheckReport, CheckResult, ObjectKind, ObjectReport} from '../checks/index.ts';
import type {Finding} from '../finding.ts';
import {findingJson, schema} from './json.ts';
import {type Paint, severityLabel} from './paint.ts';
import {clean} from './sanitize.ts';
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
	return clean(`${kind} ${id}`);
}

function worst(findings: readonly Finding[]): Finding['severity'] | undefined {
	if (findings.some(f => f.severity === 'error')) return 'error';
	if (findings.some(f => f.severity === 'warning')) return 'warning';
	return findings.length > 0 ? 'info' : undefined;
}

function mark(p: Paint, status: CheckResult['status'], findings: readonly Finding[]): string {
	if (status === 'skipped') return p.dim('-');
	const w = worst(findings);
	if (w === 'error') return p.error('✗');
	if (w === 'warning') return p.warning('!');
	if (w === 'info') return p.info('i');
	return p.ok('✓');
}

function renderObject(o: ObjectReport, p: Paint): string[] {
	const findings = o.checks.flatMap(c => c.findings);
	const head = `  ${mark(p, o.status, findings)} ${p.id(subjectText(o.subject))}${o.label === '' ? '' : `  ${clean(o.label)}`}`;
	if (o.status !== 'fail' && !o.checks.some(c => c.status === 'skipped')) return [head];
	const out = [head];
	for (const c of o.checks) {
		if (c.status === 'pass') continue;
		out.push(`      ${mark(p, c.status, c.findings)} ${clean(c.check)}${c.status === 'skipped' ? p.dim(` skipped: ${clean(c.note ?? '')}`) : ''}`);
		for (const f of c.findings) {
			// Orphan directories are named by their path, which the message starts with.
			const other = f.subject !== o.subject && !f.subject.startsWith('dir:') ? `${p.id(subjectText(f.subject))}  ` : '';
			out.push(`          ${severityLabel(p, f.severity)} ${clean(f.code)}  ${other}${clean(f.message)}${f.path !== undefined ? p.dim(`  (${clean(f.path)})`) : ''}`);
		}
	}
	const passed = o.checks.filter(c => c.status === 'pass').map(c => c.check);
	if (passed.length > 0) out.push(`      ${p.ok('✓')} ${p.dim(passed.map(clean).join(', '))}`);
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
	const p = opts.paint;
	const maxPassing = opts.maxPassing ?? 50;
	const out: string[] = [`${p.title('layerlens check')} ${clean(report.root)}${report.deep ? '  (deep: layer contents verified)' : '  (without --deep: layer contents not verified)'}`];
	const kinds: ObjectKind[] = ['root', 'store', 'image', 'layer', 'container', 'mount', 'other'];
	for (const kind of kinds) {
		const objects = report.objects.filter(o => o.kind === kind);
		if (objects.length === 0) continue;
		out.push('');
		const [one, many] = kindTitle[kind];
		out.push(p.title(objects.length === 1 && kind === 'root' ? one : `${many} (${objects.length})`));
		const problems = objects.filter(o => o.status === 'fail' || o.checks.some(c => c.status === 'skipped'));
		const clean_ = objects.filter(o => !problems.includes(o));
		for (const o of problems) append(out, renderObject(o, p));
		for (const o of clean_.slice(0, maxPassing)) append(out, renderObject(o, p));
		if (clean_.length > maxPassing) out.push(`  ${p.ok('✓')} ${plural(clean_.length - maxPassing, `more ${one}`, `more ${many}`)} passed every check (--json lists them)`);
	}
	out.push('');
	const s = report.summary;
	const line = summaryText(report);
	out.push(s.error > 0 ? p.error(line) : s.warning > 0 ? p.warning(line) : p.ok(line));
	return out.join('\n') + '\n';
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
			checks: o.checks.map(c => ({check: c.check, status: c.status, ...(c.note !== undefined ? {note: c.note} : {}), findings: c.findings.map(findingJson)})),
		})),
		findings: report.findings.map(findingJson),
	};
}
