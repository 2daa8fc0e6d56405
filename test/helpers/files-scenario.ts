// A real dockerd scenario for the files layer: an image whose layers add, delete and
// recreate files and directories, and containers that add, change and delete files, delete and
// recreate directories, replace files by directories (and back), write into volumes, and make
// hostile names. What the daemon says (`docker diff`, `docker export`) is captured before it stops.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type {Daemon} from './dockerd.ts';
import {busyboxRootfsTar} from './real-states.ts';

export const APPLETS = [
	'sh',
	'ls',
	'cat',
	'echo',
	'rm',
	'mkdir',
	'touch',
	'sleep',
	'true',
	'chmod',
	'ln',
	'mv',
	'mknod',
	'printf',
	'cd',
	'cp',
] as const;

const long = 'L'.repeat(100);

/** Containers and what each runs (all run to completion; `created` is never started). */
export const SCENARIOS: Record<string, string | null> = {
	c_add:
		'echo x > /new.txt; mkdir -p /deep/a/b && echo z > /deep/a/b/z; echo more >> /mod.txt; chmod 600 /d1/a; echo s > /d1/sub/b2',
	c_del: 'rm /keep/k /link /rel; rm -r /d1/sub; rm /bin/ls',
	c_recreate: 'rm -r /d1 && mkdir /d1 && echo n > /d1/n; rm -r /opq && mkdir /opq; rm -r /d2 && mkdir /d2',
	c_replace:
		'rm /mod.txt && mkdir /mod.txt && echo i > /mod.txt/in; rm -r /keep && echo f > /keep; rm /h1 && echo t > /h1; rm /link && mkdir /link',
	c_volume: 'echo v > /vol/v; mkdir -p /vol/sub; echo w > /data2/w; echo t > /tmpfile',
	c_hostile:
		'mkdir -p "/$(printf "e\\033[2Jx")"; touch "/$(printf "nl\\nname")" "/$(printf "tab\\tname")"; mknod /cdev c 1 3; mknod /bdev b 7 0; mknod /fifo p; ' +
		'ln -s /proc/self/root /esc; ln -s ../../../../.. /up; ln -s loop1 /loop2; ln -s loop2 /loop1; ln -s /bin /binlink',
	c_deep: `cd /; mkdir dp; cd dp; i=0; while [ $i -lt 45 ]; do mkdir ${long} && cd ${long} || exit 1; i=$((i+1)); done; echo deep > f`,
	c_empty: 'true',
	created: null,
};

export interface FilesExpected {
	imageId: string;
	/** Container ids by name. */
	ids: Record<string, string>;
	/** `docker diff NAME` lines, as printed; an error message when docker diff failed. */
	diffs: Record<string, string[] | {error: string}>;
	/** Path of `docker export NAME`'s tar (outside the data root); an error message when it failed. */
	exports: Record<string, string | {error: string}>;
}

function dockerfile(): string {
	return [
		'FROM local/fbusy:1',
		'RUN mkdir -p /d1/sub /d2 /keep /opq/inner /gone /vol && echo a > /d1/a && echo b > /d1/sub/b && echo c > /d2/c && echo k > /keep/k && ' +
			'echo m > /mod.txt && ln -s /etc/passwd /link && ln -s d1/a /rel && echo o > /opq/o && echo h > /h1 && ln /h1 /h2 && echo g > /gone/g && echo seed > /vol/seed',
		'RUN rm /bin/cat /h2 && rm -r /d2 /gone',
		'RUN mkdir /d2 && echo new > /d2/new && chmod 750 /d1',
		'VOLUME /vol',
		'',
	].join('\n');
}

/** Builds the image and runs every scenario on `daemon`; captures docker diff and docker export into `out` (outside the data root). */
export function makeFilesState(daemon: Daemon, out: string): FilesExpected {
	const d = daemon.docker;
	const work = path.join(out, 'work');
	fs.rmSync(work, {recursive: true, force: true});
	const rootfs = path.join(work, 'rootfs');
	const ctx = path.join(work, 'ctx');
	fs.mkdirSync(ctx, {recursive: true});
	const tarball = busyboxRootfsTar(
		rootfs,
		APPLETS.filter(a => a !== 'cd'),
		{'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n'},
	);
	d(['import', '-', 'local/fbusy:1'], {input: tarball});
	fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile());
	d(['build', '-q', '-t', 'local/files:1', '.'], {cwd: ctx, env: {DOCKER_BUILDKIT: '0'}});
	const imageId = d(['image', 'inspect', '-f', '{{.Id}}', 'local/files:1']).trim();
	for (const [name, script] of Object.entries(SCENARIOS)) {
		if (script === null) {
			d(['create', '--name', name, 'local/files:1', 'true']);
			continue;
		}
		const extra = name === 'c_volume' ? ['-v', '/data2'] : [];
		try {
			d(['run', '--name', name, '--network', 'none', ...extra, 'local/files:1', 'sh', '-c', script]);
		} catch (e) {
			// A failing script still leaves its container; what it did is what we compare.
			if (!/failed \(status/.test((e as Error).message)) throw e;
		}
	}
	const ids: Record<string, string> = {};
	const diffs: FilesExpected['diffs'] = {};
	const exports: FilesExpected['exports'] = {};
	for (const name of Object.keys(SCENARIOS)) {
		ids[name] = d(['inspect', '-f', '{{.Id}}', name]).trim();
		try {
			diffs[name] = d(['diff', name])
				.split('\n')
				.filter(l => l !== '');
		} catch (e) {
			diffs[name] = {error: (e as Error).message.split('\n')[0] ?? ''};
		}
		const tar = path.join(out, `${name}.tar`);
		try {
			d(['export', '-o', tar, name]);
			exports[name] = tar;
		} catch (e) {
			exports[name] = {error: (e as Error).message.split('\n')[0] ?? ''};
		}
	}
	fs.rmSync(work, {recursive: true, force: true});
	const expected = {imageId, ids, diffs, exports};
	fs.writeFileSync(path.join(out, 'files-expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
	return expected;
}
