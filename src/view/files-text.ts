import type {Finding} from '../finding.ts';
import type {Stat} from '../sources/source.ts';
import type {TarHeader} from '../formats/tar-format.ts';
import {plainLines, t} from './line.ts';

/** One listed file, as `files --json` writes it (and the text line shows). */
export type FileRow = {
	/** Absolute path inside the container or image ('/bin/sh'). */
	readonly path: string;
	readonly type: Stat['kind'] | 'whiteout';
	/** Permission bits, octal ('0755'). */
	readonly mode: string;
	readonly size: number;
	readonly uid: number;
	readonly gid: number;
	/** ISO 8601, UTC. */
	readonly mtime: string;
	readonly linkTarget?: string;
	readonly device?: {readonly major: number; readonly minor: number};
	/** A hard link (layer tar records only): the path it links to; size is then 0, as in the tar. */
	readonly hardlinkTo?: string;
	/** For a layer: what it does to the layers below. */
	readonly status?: 'added' | 'modified' | 'deleted' | 'opaque';
	/** Cache id of the layer the entry comes from. */
	readonly layer: string;
};

const typeChar: Record<FileRow['type'], string> = {
	file: '-',
	dir: 'd',
	symlink: 'l',
	char: 'c',
	block: 'b',
	fifo: 'p',
	socket: 's',
	other: '?',
	whiteout: 'w',
};

/** ls-style mode string: 'drwxr-xr-x', with s/S, t/T. */
function modeString(type: FileRow['type'], mode: number): string {
	const bit = (m: number, c: string): string => (mode & m ? c : '-');
	const special = (x: number, s: number, lower: string, upper: string): string =>
		mode & s ? (mode & x ? lower : upper) : mode & x ? 'x' : '-';
	return (
		typeChar[type] +
		bit(0o400, 'r') +
		bit(0o200, 'w') +
		special(0o100, 0o4000, 's', 'S') +
		bit(0o040, 'r') +
		bit(0o020, 'w') +
		special(0o010, 0o2000, 's', 'S') +
		bit(0o004, 'r') +
		bit(0o002, 'w') +
		special(0o001, 0o1000, 't', 'T')
	);
}

export function fileRow(
	path: string,
	st: Stat,
	layer: string,
	extra: {linkTarget?: string; status?: FileRow['status']; whiteout?: boolean},
): FileRow {
	const type = extra.whiteout === true ? 'whiteout' : st.kind;
	return {
		path,
		type,
		mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
		size: st.kind === 'dir' ? 0 : st.size,
		uid: st.uid,
		gid: st.gid,
		mtime: Number.isFinite(st.mtimeMs) ? new Date(st.mtimeMs).toISOString() : '',
		...(extra.linkTarget !== undefined ? {linkTarget: extra.linkTarget} : {}),
		...(st.rdev !== undefined && (st.kind === 'char' || st.kind === 'block') ? {device: st.rdev} : {}),
		...(extra.status !== undefined ? {status: extra.status} : {}),
		layer,
	};
}

function time(iso: string): string {
	return iso === '' ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** A row from a layer tar's header (files --tar-split): the same fields as from a directory. */
export function tarFileRow(
	path: string,
	h: TarHeader,
	layer: string,
	extra: {status?: FileRow['status']; whiteout: boolean},
): FileRow {
	const type: FileRow['type'] = extra.whiteout ? 'whiteout' : h.type === 'hardlink' ? 'file' : h.type;
	return {
		path,
		type,
		mode: h.mode.toString(8).padStart(4, '0'),
		// A symlink's size is its target's length, as lstat gives it for a layer directory.
		size:
			type === 'file' && h.type !== 'hardlink'
				? h.size
				: h.type === 'symlink' && !extra.whiteout
					? Buffer.byteLength(h.linkname)
					: 0,
		uid: h.uid,
		gid: h.gid,
		mtime: Number.isFinite(h.mtimeMs) && Math.abs(h.mtimeMs) <= 8.64e15 ? new Date(h.mtimeMs).toISOString() : '',
		...(h.type === 'symlink' ? {linkTarget: h.linkname} : {}),
		...(h.type === 'hardlink'
			? {
					hardlinkTo: `/${h.linkname
						.split('/')
						.filter(p => p !== '' && p !== '.')
						.join('/')}`,
				}
			: {}),
		...(h.type === 'char' || h.type === 'block' ? {device: {major: h.devmajor, minor: h.devminor}} : {}),
		...(extra.status !== undefined ? {status: extra.status} : {}),
		layer,
	};
}

/** One text line: [STATUS] MODE UID:GID SIZE MTIME PATH [-> TARGET]; control characters escaped. */
export function fileLine(r: FileRow, withStatus: boolean): string {
	const mode = r.type === 'whiteout' ? 'whiteout  ' : modeString(r.type, Number.parseInt(r.mode, 8));
	const size = r.device !== undefined ? `${r.device.major},${r.device.minor}` : String(r.size);
	const status = withStatus ? `${(r.status ?? '').padEnd(8)} ` : '';
	const link =
		r.linkTarget !== undefined ? ` -> ${r.linkTarget}` : r.hardlinkTo !== undefined ? ` link to ${r.hardlinkTo}` : '';
	return plainLines([
		t`${status}${mode} ${`${r.uid}:${r.gid}`.padEnd(11)} ${size.padStart(10)} ${time(r.mtime)}  ${r.path}${r.type === 'dir' && r.path !== '/' ? '/' : ''}${link}`,
	]);
}

/** A `docker diff` line; the path's control characters are escaped (`diff --json` keeps them exact). */
export function diffLine(kind: string, path: string): string {
	return plainLines([t`${kind} ${path}`]);
}

/** Findings as lines for stderr. */
export function findingLines(findings: readonly Finding[]): string {
	return plainLines(
		findings.map(
			f => t`layerlens: ${f.severity}: ${f.message}${f.path !== undefined ? ` (${f.path})` : ''} [${f.code}]`,
		),
	);
}
