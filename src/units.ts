/**
 * Sizes as docker prints them (go-units HumanSize): decimal units, three significant digits
 * ("1.11MB"); buildx prints four ("1.064MB"). Shared by findings' messages and the views.
 */
export function humanSize(bytes: number | null | undefined, digits = 3): string {
	if (bytes === null || bytes === undefined) return '-';
	const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
	let size = bytes;
	let i = 0;
	while (size >= 1000 && i < units.length - 1) {
		size /= 1000;
		i++;
	}
	// Go's %.3g (%.4g): that many significant digits, trailing zeros dropped.
	return `${Number(size.toPrecision(digits)).toString()}${units[i]}`;
}
