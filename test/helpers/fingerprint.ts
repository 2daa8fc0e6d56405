// What the read-only rule is checked with (test/evidence.ts, test/containerd-root.ts): a
// fingerprint of every path under a root, and every file's access time.
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** A file's bytes, read with O_NOATIME where allowed (the owner or root), so that fingerprinting does not change access times. */
function readQuietly(file: string): Buffer {
	let fd: number;
	try {
		fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOATIME ?? 0));
	} catch {
		return fs.readFileSync(file);
	}
	try {
		return fs.readFileSync(fd);
	} finally {
		fs.closeSync(fd);
	}
}

/** Every path under root: mode, owner, size, mtime and (files) content hash, (symlinks) target, (devices) rdev. Access times are left as they are where the OS allows. */
export function fingerprint(root: string): Map<string, string> {
	const out = new Map<string, string>();
	const walk = (rel: string) => {
		const abs = path.join(root, rel);
		const st = fs.lstatSync(abs);
		let extra = '';
		if (st.isFile()) extra = createHash('sha256').update(readQuietly(abs)).digest('hex');
		else if (st.isSymbolicLink()) extra = fs.readlinkSync(abs);
		else if (st.isCharacterDevice() || st.isBlockDevice()) extra = String(st.rdev);
		out.set(rel, [st.mode, st.uid, st.gid, st.size, st.mtimeMs, extra].join(' '));
		if (st.isDirectory()) for (const name of fs.readdirSync(abs).sort()) walk(rel === '' ? name : `${rel}/${name}`);
	};
	walk('');
	return out;
}

/** Every file's access time. */
export function atimes(root: string): Map<string, number> {
	const out = new Map<string, number>();
	const walk = (rel: string) => {
		const abs = path.join(root, rel);
		const st = fs.lstatSync(abs);
		if (st.isFile()) out.set(rel, st.atimeMs);
		if (st.isDirectory()) for (const name of fs.readdirSync(abs)) walk(rel === '' ? name : `${rel}/${name}`);
	};
	walk('');
	return out;
}

/**
 * Sets every file's access time far before its modification time, so that any read that updates
 * access times (relatime) shows. The modification time is written back at millisecond precision:
 * take fingerprints after this.
 */
export function ageAtimes(root: string): void {
	const walk = (abs: string) => {
		const st = fs.lstatSync(abs);
		if (st.isFile()) fs.utimesSync(abs, new Date(1000), st.mtime);
		if (st.isDirectory()) for (const name of fs.readdirSync(abs)) walk(path.join(abs, name));
	};
	walk(root);
}
