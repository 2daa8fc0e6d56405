/**
 * The key table: one list drives both the input handling and the help overlay.
 * Pure: Ink's key object is described structurally, so this file loads without Ink.
 */
export type Command =
	| 'up'
	| 'down'
	| 'pageUp'
	| 'pageDown'
	| 'top'
	| 'bottom'
	| 'expand'
	| 'collapse'
	| 'toggle'
	| 'focus'
	| 'searchStart'
	| 'nextMatch'
	| 'prevMatch'
	| 'filter'
	| 'explain'
	| 'files'
	| 'disk'
	| 'help'
	| 'quit';

export type Binding = {
	readonly keys: readonly string[];
	readonly command: Command;
	readonly help: string;
	readonly hint?: string;
	/** Shown in one help row with the next binding (so the help still fits an 80x24 terminal). */
	readonly helpWithNext?: true;
};

export const keyTable: readonly Binding[] = [
	{keys: ['up', 'k'], command: 'up', help: 'move up (in the details: scroll up)', hint: '↑↓ move'},
	{keys: ['down', 'j'], command: 'down', help: 'move down (in the details: scroll down)'},
	{
		keys: ['right', 'l'],
		command: 'expand',
		help: 'expand; on an expanded node, go to its first child',
		hint: '←→ fold',
	},
	{keys: ['left', 'h'], command: 'collapse', help: 'collapse; on a child, go to its parent'},
	{keys: ['enter'], command: 'toggle', help: 'expand or collapse; on a finding, go to what it concerns'},
	{keys: ['g', 'home'], command: 'top', help: 'go to the top'},
	{keys: ['G', 'end'], command: 'bottom', help: 'go to the bottom'},
	{keys: ['pageup', 'ctrl+b'], command: 'pageUp', help: 'one page up'},
	{keys: ['pagedown', 'ctrl+f', 'space'], command: 'pageDown', help: 'one page down'},
	{
		keys: ['tab'],
		command: 'focus',
		help: 'move the focus between the tree and the details (to scroll them)',
		hint: 'tab details',
	},
	{
		keys: ['/'],
		command: 'searchStart',
		help: 'search: container name, id prefix, tag, cache id, path',
		hint: '/ search',
	},
	{keys: ['n'], command: 'nextMatch', help: 'next match', helpWithNext: true},
	{keys: ['N'], command: 'prevMatch', help: 'previous match'},
	{keys: ['f'], command: 'filter', help: 'show only nodes with findings (press again to show all)', hint: 'f findings'},
	{keys: ['e'], command: 'explain', help: 'explain: what the selected object and its files are', hint: 'e explain'},
	{keys: ['o'], command: 'files', help: 'files of the selected container, image or layer (Esc: back)'},
	{
		keys: ['d'],
		command: 'disk',
		help: 'disk use by owner, biggest first (Enter: go to it, Esc back)',
	},
	{keys: ['?'], command: 'help', help: 'show or hide this help', hint: '? help'},
	{keys: ['q', 'ctrl+c'], command: 'quit', help: 'quit', hint: 'q quit'},
];

/** While typing a search. */
const searchKeyTable: ReadonlyArray<{readonly keys: readonly string[]; readonly help: string}> = [
	{keys: ['enter'], help: 'keep the match and leave the search line'},
	// One row for both, so that the help still fits an 80x24 terminal.
	{keys: ['esc', 'backspace'], help: 'cancel (Esc) or delete a character (Backspace)'},
];

/** The fields of Ink's Key that we read. */
export type KeyLike = {
	readonly upArrow: boolean;
	readonly downArrow: boolean;
	readonly leftArrow: boolean;
	readonly rightArrow: boolean;
	readonly pageUp: boolean;
	readonly pageDown: boolean;
	readonly home?: boolean;
	readonly end?: boolean;
	readonly return: boolean;
	readonly escape: boolean;
	readonly ctrl: boolean;
	readonly tab: boolean;
	readonly backspace: boolean;
	readonly delete: boolean;
};

/** A key press as the name used in the tables ("down", "j", "ctrl+c", "enter", …); '' for nothing we know. */
export function keyName(input: string, key: KeyLike): string {
	if (key.upArrow) return 'up';
	if (key.downArrow) return 'down';
	if (key.leftArrow) return 'left';
	if (key.rightArrow) return 'right';
	if (key.pageUp) return 'pageup';
	if (key.pageDown) return 'pagedown';
	if (key.home === true) return 'home';
	if (key.end === true) return 'end';
	if (key.return) return 'enter';
	if (key.tab) return 'tab';
	// Ink 6 reports Backspace (0x7f) as delete; treat both alike.
	if (key.backspace || key.delete) return 'backspace';
	if (key.escape) return 'esc';
	if (key.ctrl) return `ctrl+${input}`;
	if (input === ' ') return 'space';
	return input;
}

const byKey = new Map<string, Command>();
for (const b of keyTable) for (const k of b.keys) byKey.set(k, b.command);

export function commandFor(name: string): Command | undefined {
	return byKey.get(name);
}

/** The one-line hint shown at the bottom. */
export function hintText(): string {
	return keyTable
		.filter(b => b.hint !== undefined)
		.map(b => b.hint)
		.join('  ');
}

const display: Record<string, string> = {
	up: '↑',
	down: '↓',
	left: '←',
	right: '→',
	enter: 'Enter',
	tab: 'Tab',
	pageup: 'PgUp',
	pagedown: 'PgDn',
	home: 'Home',
	end: 'End',
	esc: 'Esc',
	backspace: 'Backspace',
	space: 'Space',
};

function keyLabel(k: string): string {
	if (k.startsWith('ctrl+')) return `Ctrl-${k.slice(5).toUpperCase()}`;
	return display[k] ?? k;
}

/** The help overlay's lines, from the tables. */
export function helpLines(): Array<{keys: string; help: string}> {
	const rows: Array<{keys: string; help: string}> = [];
	for (let i = 0; i < keyTable.length; i++) {
		const b = keyTable[i]!;
		const keys = b.keys.map(keyLabel).join(' ');
		const next = b.helpWithNext === true ? keyTable[++i] : undefined;
		if (next === undefined) rows.push({keys, help: b.help});
		else rows.push({keys: `${keys} ${next.keys.map(keyLabel).join(' ')}`, help: `${b.help} / ${next.help}`});
	}
	const search = searchKeyTable.map(b => ({keys: b.keys.map(keyLabel).join(' '), help: `(search line) ${b.help}`}));
	return [...rows, ...search];
}
