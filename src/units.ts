/** Sizes as docker prints them: decimal units, three significant digits ("1.11MB"). Shared by findings' messages and the views. */
export function humanSize(bytes: number | null | undefined): string {
	if (bytes === null || bytes === undefined) return '-';
	const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
	let size = bytes;
	let i = 0;
	while (size >= 1000 && i < units.length - 1) {
		size /= 1000;
		i++;
	}
	// Go's %.3g: three significant digits, trailing zeros dropped.
	return `${Number(size.toPrecision(3)).toString()}${units[i]}`;
}
