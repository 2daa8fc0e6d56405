// Reading tar streams for the files tests: every member's path, type, mode, size, link target and
// content hash, with test/../src/formats/tar-format.ts's parser.
import {createHash} from 'node:crypto';
import * as fs from 'node:fs';
import {type TarHeader, TarParser} from '../../src/formats/tar-format.ts';

export type Member = {
	path: string;
	type: string;
	mode: string;
	size: number;
	link: string;
	sha256: string;
	uid: number;
	gid: number;
	dev: string;
};

/** A member's path as the tests key it: no leading './', no trailing '/'. */
export function memberPath(h: TarHeader): string {
	return h.name.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** A member as the tests compare it, from its header; sha256 is the empty content's until its data is hashed. */
export function memberOf(h: TarHeader): Member {
	return {
		path: memberPath(h),
		type: h.type,
		mode: (h.mode & 0o7777).toString(8),
		size: h.type === 'file' ? h.size : 0,
		link: h.type === 'symlink' || h.type === 'hardlink' ? h.linkname : '',
		sha256: createHash('sha256').digest('hex'),
		uid: h.uid,
		gid: h.gid,
		dev: h.type === 'char' || h.type === 'block' ? `${h.devmajor},${h.devminor}` : '',
	};
}

/** Members of a tar (a file or bytes), keyed by path without a trailing '/'. */
export function readTar(input: string | Buffer): Map<string, Member> {
	const out = new Map<string, Member>();
	const problems: string[] = [];
	const parser = new TarParser({
		entry: h => {
			const m = memberOf(h);
			out.set(m.path, m);
			return h.type === 'file' && h.size > 0;
		},
		data: (h, data) => {
			out.get(memberPath(h))!.sha256 = createHash('sha256').update(data).digest('hex');
		},
		truncated: h => problems.push(`truncated: ${h.name}`),
		problem: m => problems.push(m),
	});
	const bytes = typeof input === 'string' ? fs.readFileSync(input) : input;
	for (let i = 0; i < bytes.length; i += 1 << 20) if (!parser.push(bytes.subarray(i, i + (1 << 20)))) break;
	parser.end();
	if (problems.length > 0) throw new Error(`tar problems: ${problems.join('; ')}`);
	return out;
}

/** A hard link compares as the file it names (docker and layerlens may pick different first names). */
export function resolveLinks(m: Map<string, Member>): Map<string, Member> {
	const out = new Map<string, Member>();
	for (const [k, v] of m) {
		if (v.type !== 'hardlink') {
			out.set(k, v);
			continue;
		}
		const t = m.get(v.link.replace(/\/+$/, ''));
		out.set(k, t === undefined ? v : {...t, path: k});
	}
	return out;
}

/** One comparable line per member: path, type, mode, size, link target, device, owner, content. */
export function describe(m: Map<string, Member>): string[] {
	return [...resolveLinks(m).values()]
		.map(
			v =>
				`${JSON.stringify(v.path)} ${v.type} ${v.mode} ${v.size} ${JSON.stringify(v.link)} ${v.dev} ${v.uid}:${v.gid} ${v.sha256.slice(0, 16)}`,
		)
		.sort();
}

/** docker diff prints raw names, one change a line: a name with a newline spans two lines. Compare the same way. */
export function asDockerLines(changes: Array<{kind: string; path: string}>): string[] {
	return changes
		.map(c => `${c.kind} ${c.path}`)
		.join('\n')
		.split('\n')
		.filter(l => l !== '')
		.sort();
}
