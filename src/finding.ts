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

const severityRank: Record<Severity, number> = {error: 0, warning: 1, info: 2};

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
