/**
 * A finding: something on disk that is missing, broken or worth an analyst's attention.
 * Readers, linking and checks all produce them; nothing that is broken throws.
 */
export type Severity = 'error' | 'warning' | 'info';

export type Finding = {
	readonly severity: Severity;
	/** Stable identifier, e.g. 'container.config-invalid'. Documented in the README. */
	readonly code: string;
	/** The object it concerns: 'container:<id>', 'image:sha256:<hex>', 'layer:sha256:<hex>', 'mount:<id>', 'store:<driver>', 'root'. */
	readonly subject: string;
	/** The path involved, relative to the root, when there is one. */
	readonly path?: string;
	readonly message: string;
};

export function finding(severity: Severity, code: string, subject: string, message: string, path?: string): Finding {
	return path === undefined ? {severity, code, subject, message} : {severity, code, subject, path, message};
}

/** Severities in order, the worst first: error 0, warning 1, info 2. */
const severityRank: Readonly<Record<Severity, number>> = {error: 0, warning: 1, info: 2};

/** Whether a word (from the command line) names a severity. */
export function isSeverity(s: string): s is Severity {
	return Object.hasOwn(severityRank, s);
}

/** The worse of two severities. */
export function worse(a: Severity, b: Severity): Severity {
	return severityRank[b] < severityRank[a] ? b : a;
}

/** Whether a severity is at or above (as bad as or worse than) a level. */
export function atLeast(s: Severity, level: Severity): boolean {
	return severityRank[s] <= severityRank[level];
}

export function compareFindings(a: Finding, b: Finding): number {
	return (
		severityRank[a.severity] - severityRank[b.severity] ||
		cmp(a.subject, b.subject) ||
		cmp(a.code, b.code) ||
		cmp(a.path ?? '', b.path ?? '') ||
		cmp(a.message, b.message)
	);
}

function cmp(a: string, b: string): number {
	return a < b ? -1 : a > b ? 1 : 0;
}
