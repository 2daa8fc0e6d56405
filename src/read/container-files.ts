import {type Finding, finding} from '../finding.ts';
import type {Entry, Source} from '../sources/source.ts';

/**
 * What else is in containers/<id>/, looked at without reading it (model and check report it):
 * - a symlink in it or in its `mounts/` (`hostname`, `hosts`, `resolv.conf`, `checkpoints`,
 *   `mounts`, `mounts/shm`, …): dockerd writes regular files and directories there, never a symlink; it is
 *   a fact, shown with its target, never followed (`container.symlink`);
 * - log files (json-file `<id>-json.log[.N][.gz]`, local `local-logs/container.log[.N][.gz]`)
 *   that are not regular files or cannot be opened: their lines are not read (`log.unreadable`).
 * config.v2.json, config.json and hostconfig.json are the readers' (file.* findings).
 */

/** Directories under containers/<id>/ whose entries are looked at too (`mounts/shm`, `mounts/secrets`; the local driver's logs). */
const inner = new Set(['mounts', 'local-logs']);
/** At most this many entries are looked at in one of them (a hostile copy can hold millions). */
const maxInner = 10_000;

const readByReaders = new Set(['config.v2.json', 'config.json', 'hostconfig.json']);

function isLogName(id: string, name: string, inLocal: boolean): boolean {
	if (inLocal) return /^container\.log(\.\d+)?(\.gz)?$/.test(name);
	if (!name.startsWith(`${id}-json.log`)) return false;
	return /^(\.\d+)?(\.gz)?$/.test(name.slice(`${id}-json.log`.length));
}

export function containerFileFindings(source: Source, id: string): Finding[] {
	const subject = `container:${id}`;
	const dir = `containers/${id}`;
	const listed = source.list(dir);
	if (!listed.ok) return [];
	const out: Finding[] = [];
	const look = (rel: string, e: Entry, inLocal: boolean): void => {
		const path = `${rel}/${e.name}`;
		if (isLogName(id, e.name, inLocal)) {
			const f = logFileProblem(source, path, e, subject);
			if (f !== undefined) out.push(f);
			return;
		}
		if (e.kind !== 'symlink') return;
		const target = source.readLink(path);
		const to = target.ok ? ` to ${JSON.stringify(target.value)}` : '';
		out.push(
			finding(
				'warning',
				'container.symlink',
				subject,
				`${path} is a symlink${to}; not followed: dockerd writes regular files and directories here, never a symlink, so something else made it (dockerd follows it when it bind-mounts or writes the file at the next start)`,
				path,
			),
		);
	};
	for (const e of listed.value) {
		if (readByReaders.has(e.name)) continue;
		look(dir, e, false);
		if (e.kind === 'dir' && inner.has(e.name)) {
			const sub = source.list(`${dir}/${e.name}`);
			if (!sub.ok) continue;
			const local = e.name === 'local-logs';
			let n = 0;
			for (const x of sub.value) {
				if (++n > maxInner) {
					out.push(
						finding(
							'info',
							'container.entries-not-checked',
							subject,
							`${dir}/${e.name} holds ${sub.value.length} entries; only the first ${maxInner} were looked at for symlinks`,
							`${dir}/${e.name}`,
						),
					);
					break;
				}
				look(`${dir}/${e.name}`, x, local);
			}
		}
	}
	return out;
}

/** A log file whose lines cannot be read: not a regular file (a symlink is never followed), or not openable. */
export function logFileProblem(source: Source, path: string, e: Entry, subject: string): Finding | undefined {
	const lost = 'its lines are not in `timeline --logs`';
	if (e.kind === 'symlink') {
		const target = source.readLink(path);
		const to = target.ok ? ` to ${JSON.stringify(target.value)}` : '';
		return finding(
			'warning',
			'log.unreadable',
			subject,
			`log file ${path} is a symlink${to}; not followed (dockerd writes a regular file): ${lost}`,
			path,
		);
	}
	if (e.kind !== 'file')
		return finding(
			'warning',
			'log.unreadable',
			subject,
			`log file ${path} is a ${e.kind}, not a regular file; never opened: ${lost}`,
			path,
		);
	// An archive's members are readable (a compressed one's content is the archive Source's to report),
	// and root reads any regular file: only a directory read by another user is tried (one open per log).
	if (source.kind !== 'dir' || process.getuid?.() === 0) return undefined;
	const opened = source.openRead?.(path);
	if (opened === undefined) return undefined;
	if (!opened.ok)
		return finding(
			'warning',
			'log.unreadable',
			subject,
			`log file ${path} cannot be read (${opened.error.message}): ${lost}`,
			path,
		);
	opened.value.close();
	return undefined;
}
