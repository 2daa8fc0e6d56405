import {Text} from 'ink';
import {useContext} from 'react';
import type {Line, Tone} from '../src/ui/text.ts';
import {ColorContext} from './color.ts';

type ToneProps = {color?: string; bold?: boolean; dimColor?: boolean};

/** Tones to Ink text props: one theme table. */
export const toneProps: Record<Tone, ToneProps> = {
	plain: {},
	dim: {dimColor: true},
	label: {dimColor: true},
	title: {bold: true},
	id: {color: 'cyan'},
	role: {color: 'magenta'},
	error: {color: 'red'},
	warning: {color: 'yellow'},
	info: {color: 'blue'},
	ok: {color: 'green'},
};

type Props = {
	readonly line: Line;
	/** Pads to this width (so an inverse highlight covers the whole row). */
	readonly width: number;
	readonly inverse?: boolean;
	readonly dim?: boolean;
};

/** A tone's props without its colour (NO_COLOR, --no-color): bold and dim stay. */
function uncoloured(props: ToneProps): ToneProps {
	const {color: _, ...rest} = props;
	return rest;
}

/** One line of styled segments; never wraps (cut with "…" beforehand, and truncated by Ink as a last resort). */
export function StyledLine({line, width, inverse = false, dim = false}: Props) {
	const color = useContext(ColorContext);
	let used = 0;
	for (const s of line) used += [...s.text].length;
	const padding = inverse && used < width ? ' '.repeat(width - used) : '';
	return (
		<Text wrap="truncate-end" inverse={inverse} dimColor={dim}>
			{line.map((s, i) => (
				// biome-ignore lint/suspicious/noArrayIndexKey: a line's segments have no identity but their order.
				<Text key={i} {...(color ? toneProps[s.tone] : uncoloured(toneProps[s.tone]))}>
					{s.text}
				</Text>
			))}
			{padding}
			{line.length === 0 && padding === '' ? ' ' : ''}
		</Text>
	);
}
