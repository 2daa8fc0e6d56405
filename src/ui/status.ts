/** The two bottom lines: the status bar and the key/search/message line. */
import type {Model} from '../model/types.ts';
import {hintText} from './keys.ts';
import type {NavState} from './nav.ts';
import {type Line, plural, seg} from './text.ts';

export type RootInfo = {
	readonly sample: boolean;
	/** Only the containers are read yet (TreeIndex.loading): images, layers and findings are not counted. */
	readonly loading?: boolean;
};

/**
 * Root (and whether it is the sample or an archive), counts, findings, drivers, the filter. When
 * the line is too long the root is shortened from the left, so the counts stay in view.
 */
export function statusLine(model: Model, info: RootInfo, filter: boolean, width = Number.MAX_SAFE_INTEGER): Line {
	const kind = info.sample ? ' (sample)' : model.sourceKind === 'archive' ? ' (archive)' : '';
	const worst = model.findings.some(f => f.severity === 'error')
		? 'error'
		: model.findings.some(f => f.severity === 'warning')
			? 'warning'
			: 'plain';
	const head = filter ? [seg(' [only findings]', 'warning')] : [];
	const drivers = seg(`  ${model.drivers.join(', ') || 'no driver'}`);
	const rest = info.loading
		? [
				seg(`  ${plural(model.containers.length, 'container')} · `),
				seg('reading images, layers and findings…', 'dim'),
				drivers,
			]
		: [
				seg(
					`  ${plural(model.containers.length, 'container')} · ${plural(model.images.length, 'image')} · ${plural(model.layers.length, 'layer')} · `,
				),
				seg(plural(model.findings.length, 'finding'), worst),
				drivers,
			];
	const used = [...head, ...rest].reduce((n, x) => n + [...x.text].length, 0) + 1 + kind.length;
	let root = [...seg(model.root).text];
	const room = Math.max(4, width - used);
	if (root.length > room) root = ['…', ...root.slice(root.length - room + 1)];
	return [...head, seg(` ${root.join('')}${kind}`, 'title'), ...rest];
}

/** The line above the status bar: the search line while typing, else a message, else the key hints. */
export function promptLine(nav: NavState): Line {
	const s = nav.search;
	if (s.typing) {
		const count =
			s.query === ''
				? 'type to search names, ids, tags, cache ids, paths'
				: s.matches.length === 0
					? 'no match'
					: `${s.current + 1} of ${s.matches.length}`;
		return [seg('/', 'title'), seg(s.query), seg('▏', 'dim'), seg(`  ${count}  ·  Enter keep · Esc cancel`, 'dim')];
	}
	if (nav.message !== null) return [seg(` ${nav.message}`, 'warning')];
	if (s.query !== '' && s.matches.length > 0) {
		return [
			seg(` /${s.query}`, 'title'),
			seg(`  ${s.current + 1} of ${s.matches.length}  n next · N previous`, 'dim'),
			seg(`   ${hintText()}`, 'dim'),
		];
	}
	return [seg(` ${hintText()}`, 'dim')];
}
