// Throw-away file systems for the read-only tests: a tmpfs mounted `strictatime` (every read
// updates an access time) and an ext4 image loop-mounted `relatime` (a read updates an access
// time that is older than the modification time, as aged ones are). Needs root. Every mount is
// undone (and its loop device detached) by dispose(), at exit and on SIGINT/SIGTERM.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type ScratchKind = 'tmpfs-strictatime' | 'ext4-relatime';

export type ScratchFs = {
	readonly kind: ScratchKind;
	/** The mount point. */
	readonly dir: string;
	/** The mount's options as the kernel reports them (/proc/self/mountinfo). */
	readonly options: string;
	dispose(): void;
};

const live = new Set<ScratchFs>();
let hooked = false;

function hook(): void {
	if (hooked) return;
	hooked = true;
	process.on('exit', () => {
		for (const s of [...live]) s.dispose();
	});
	for (const sig of ['SIGINT', 'SIGTERM'] as const) {
		process.once(sig, () => {
			for (const s of [...live]) s.dispose();
			process.exit(130);
		});
	}
}

/** Why scratch file systems cannot be made here, or null when they can. */
export function scratchUnavailable(kind: ScratchKind): string | null {
	if (process.platform !== 'linux') return 'not linux';
	if (process.getuid?.() !== 0) return 'not root (mount needs it)';
	if (kind === 'ext4-relatime') {
		if (spawnSync('mkfs.ext4', ['-V'], {encoding: 'utf8'}).error !== undefined)
			return 'mkfs.ext4 not installed (e2fsprogs)';
		if (spawnSync('losetup', ['--version'], {encoding: 'utf8'}).error !== undefined) return 'losetup not installed';
	}
	return null;
}

/** The options of the mount at dir (the VFS ones and the super block's). */
function mountOptions(dir: string): string {
	for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const f = line.split(' ');
		if (f[4] !== dir) continue;
		const sep = f.indexOf('-');
		return `${f[5] ?? ''} ${f[sep + 1] ?? ''} ${f[sep + 3] ?? ''}`;
	}
	throw new Error(`${dir} is not mounted`);
}

/** Mounts a fresh file system of `kind` (sizeMiB big) on a new directory. */
export function mountScratch(kind: ScratchKind, sizeMiB = 1024): ScratchFs {
	hook();
	const base = fs.mkdtempSync(path.join(os.tmpdir(), `layerlens-${kind}-`));
	const dir = path.join(base, 'mnt');
	fs.mkdirSync(dir);
	const image = path.join(base, 'ext4.img');
	let loop: string | null = null;
	let mounted = false;
	let disposed = false;
	const dispose = (): void => {
		if (disposed) return;
		disposed = true;
		live.delete(scratch);
		if (mounted) {
			const r = spawnSync('umount', [dir]);
			if (r.status !== 0) spawnSync('umount', ['-l', dir]);
		}
		if (loop !== null) spawnSync('losetup', ['-d', loop]);
		fs.rmSync(base, {recursive: true, force: true});
	};
	const scratch: ScratchFs = {
		kind,
		dir,
		get options() {
			return mountOptions(dir);
		},
		dispose,
	};
	live.add(scratch);
	try {
		if (kind === 'tmpfs-strictatime') {
			execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755,strictatime`, 'tmpfs', dir]);
			mounted = true;
		} else {
			fs.closeSync(fs.openSync(image, 'w'));
			fs.truncateSync(image, sizeMiB * 1024 * 1024);
			execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', image]);
			loop = execFileSync('losetup', ['--find', '--show', image], {encoding: 'utf8'}).trim();
			execFileSync('mount', ['-t', 'ext4', '-o', 'relatime', loop, dir]);
			mounted = true;
		}
	} catch (e) {
		dispose();
		throw e;
	}
	return scratch;
}
