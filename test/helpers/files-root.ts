// A small overlay2 root for the explorer's files view (test/unit/ui-files.ts, test/unit/ui-app.tsx).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {FakeRoot} from './fake-root.ts';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** An image of two layers (etc/hostname, bin/cat, bin/sh; then etc/motd) and a container that edits, adds and deletes. */
export function filesRoot(): FakeRoot {
	const r = new FakeRoot('overlay2');
	const id = r.addImage({
		layers: [
			{diffId: `sha256:${'a'.repeat(64)}`, cacheId: 'base'},
			{diffId: `sha256:${'b'.repeat(64)}`, cacheId: 'top'},
		],
		tags: ['demo:1'],
	});
	const chainIds = r.addLayers([
		{diffId: `sha256:${'a'.repeat(64)}`, cacheId: 'base'},
		{diffId: `sha256:${'b'.repeat(64)}`, cacheId: 'top'},
	]);
	// A mount id as dockerd writes it (64 hex digits; layer/filestore.go refuses anything else).
	const mnt = 'd'.repeat(64);
	r.addContainer({id: 'c'.repeat(64), name: 'web', image: id, mountId: mnt}, chainIds[1]);
	r.write(`${r.layerDir('base')}/etc/hostname`, 'base\n');
	r.write(`${r.layerDir('base')}/bin/cat`, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1]));
	r.write(`${r.layerDir('base')}/bin/sh`, 'x'.repeat(70 * 1024));
	r.write(`${r.layerDir('top')}/etc/motd`, 'hello\tworld\n\u001b[31mred\u001b[0m\n');
	r.write(`${r.layerDir(mnt)}/etc/hostname`, 'web-1\n');
	r.write(`${r.layerDir(mnt)}/etc/new.conf`, 'a=1\n');
	fs.mkdirSync(r.p(`${r.layerDir(mnt)}/bin`), {recursive: true});
	if (asRoot) spawnSync('mknod', [r.p(`${r.layerDir(mnt)}/bin/cat`), 'c', '0', '0']);
	// Fixed times, so that the details (mtime) snapshot the same on every run.
	const T = new Date('2026-01-02T03:04:05Z');
	const touch = (p: string): void => {
		const st = fs.lstatSync(p);
		if (st.isDirectory()) for (const n of fs.readdirSync(p)) touch(`${p}/${n}`);
		fs.utimesSync(p, T, T);
	};
	for (const c of ['base', 'top', mnt]) touch(r.p(r.layerDir(c)));
	return r;
}
