/**
 * What the files of a container's init layer are for. Docker creates this layer between the
 * image and the container's RW layer, before the first start, with empty placeholders that the
 * runtime mounts over; the contents a process sees come from those mounts, not from these files.
 */
export const initFiles: ReadonlyArray<{readonly path: string; readonly purpose: string}> = [
	{path: '.dockerenv', purpose: 'empty marker: lets programs inside tell that they run in a Docker container'},
	{path: 'dev', purpose: 'mount point for the container\'s own small /dev (a tmpfs the runtime fills)'},
	{path: 'dev/console', purpose: 'placeholder the runtime bind-mounts the container\'s terminal onto'},
	{path: 'dev/pts', purpose: 'mount point for the container\'s pseudo-terminals (devpts)'},
	{path: 'dev/shm', purpose: 'mount point for shared memory (a tmpfs sized by --shm-size)'},
	{path: 'etc', purpose: 'holds the placeholders below'},
	{path: 'etc/hostname', purpose: 'placeholder; the real one, with the container\'s host name, is bind-mounted from containers/<id>/hostname'},
	{path: 'etc/hosts', purpose: 'placeholder; the real one (localhost, the container\'s own address, --add-host) comes from containers/<id>/hosts'},
	{path: 'etc/resolv.conf', purpose: 'placeholder; the DNS settings are bind-mounted from containers/<id>/resolv.conf'},
	{path: 'etc/mtab', purpose: 'symlink to /proc/mounts, so tools that read mtab see the container\'s mounts'},
	{path: 'proc', purpose: 'mount point for the container\'s own /proc'},
	{path: 'sys', purpose: 'mount point for /sys (read-only unless the container is privileged)'},
];

export function initPurpose(path: string): string | undefined {
	return initFiles.find(f => f.path === path)?.purpose;
}
