import {Box, Text, useApp, useInput} from 'ink';
import {
	type Dispatch,
	type ReactNode,
	type SetStateAction,
	useCallback,
	useEffect,
	useMemo,
	useRef,
	useState,
} from 'react';
import type {Model} from '../src/model/types.ts';
import type {Source} from '../src/sources/source.ts';
import {type ContainerDetails, withDetails} from '../src/ui/container-details.ts';
import {detailLines, detailTitle} from '../src/ui/detail.ts';
import {type DiskLedger, type DiskState, computingDisk, diskDetailLines, readyDisk} from '../src/ui/disk-view.ts';
import {type DirSize, type FileRow, type FilesState, fileDetailLines, selectedFile} from '../src/ui/files-view.ts';
import {makeFolderSizer} from '../src/ui/folder-sizes.ts';
import {keyName} from '../src/ui/keys.ts';
import {makeFileLister} from '../src/ui/layer-files.ts';
import {type PaneLayout, paneLayout} from '../src/ui/pane-layout.ts';
import {type NavContext, type NavState, initNav, reduce, reduceKey, retree, selected} from '../src/ui/nav.ts';
import type {RowSizes} from '../src/ui/rows.ts';
import {promptLine, statusLine} from '../src/ui/status.ts';
import type {Line} from '../src/ui/text.ts';
import {type TreeIndex, type TreeNode, buildTree} from '../src/ui/tree.ts';
import {ColorContext} from './color.ts';
import {DetailPane} from './DetailPane.tsx';
import {DiskPane} from './DiskPane.tsx';
import {FilesPane} from './FilesPane.tsx';
import {HelpOverlay} from './HelpOverlay.tsx';
import {StyledLine} from './StyledLine.tsx';
import {TreePane} from './TreePane.tsx';
import {useTerminalSize} from './use-terminal-size.ts';

export type AppProps = {
	readonly model: Model;
	/** Where layer files are listed from; null shows no listings. */
	readonly source: Source | null;
	/** Only the containers are read yet; chains, images, layers and findings are still coming (src/ui/feed.ts). */
	readonly loading?: boolean;
	/** Fills in a container's configs when the model left them out (src/ui/feed.ts); null: they are in it. */
	readonly details?: ContainerDetails | null;
	readonly sample?: boolean;
	/** Fixed size (tests); otherwise the terminal's, following resizes. */
	readonly width?: number;
	readonly height?: number;
	/** Draw colour (default true); false under NO_COLOR or --no-color (components/color.ts). */
	readonly color?: boolean;
	/** Computes df's ledger of the root off the render path (the disk view, d); null: the view says it has none. */
	readonly ledger?: (() => Promise<DiskLedger>) | null;
};

/**
 * The ledger for the disk view: started the first time d is pressed, kept once known. Returns the
 * state d opens with, the spinner's step (it turns while the computation runs), and the sizes
 * that need the walk (containers' SIZE RW) for the tree's rows, once known.
 */
function useLedger(ledger: (() => Promise<DiskLedger>) | null, tree: TreeIndex, onReady: (d: DiskState) => void) {
	const known = useRef<DiskState | null>(null);
	const started = useRef(false);
	const [computing, setComputing] = useState(false);
	const [frame, setFrame] = useState(0);
	const [sizes, setSizes] = useState<RowSizes | null>(null);
	const treeRef = useRef(tree);
	treeRef.current = tree;
	const open = useCallback((): DiskState => {
		if (known.current !== null) return known.current;
		if (ledger === null)
			return {...computingDisk, rows: null, error: 'no ledger here: the root is not read from a source'};
		if (!started.current) {
			started.current = true;
			setComputing(true);
			const done = (d: DiskState) => {
				known.current = d;
				setComputing(false);
				onReady(d);
			};
			ledger().then(
				result => {
					setSizes({sizeRw: new Map(result.report.containers.map(c => [c.id, c.sizeRw]))});
					done(readyDisk(result, treeRef.current, treeRef.current.model));
				},
				(e: unknown) => done({...computingDisk, error: e instanceof Error ? e.message : String(e)}),
			);
		}
		return computingDisk;
	}, [ledger, onReady]);
	useEffect(() => {
		if (!computing) return;
		const timer = setInterval(() => setFrame(f => f + 1), 120);
		return () => clearInterval(timer);
	}, [computing]);
	return {open, frame, sizes};
}

/** The detail pane's lines for a node and for a files view, each built once and cached. */
function useDetailLines(tree: TreeIndex, source: Source | null, details: ContainerDetails | null, detailWidth: number) {
	const files = useMemo(() => makeFileLister(source), [source]);
	// biome-ignore lint/correctness/useExhaustiveDependencies: the dependencies are what invalidates the cache, not what builds it.
	const cache = useMemo(() => new Map<string, Line[]>(), [tree, files, details]);
	const linesFor = useCallback(
		(node: TreeNode): Line[] => {
			let lines = cache.get(node.key);
			if (lines === undefined) {
				lines = detailLines(tree, withDetails(node, details), files);
				if (cache.size > 200) cache.clear();
				cache.set(node.key, lines);
			}
			return lines;
		},
		[cache, tree, files, details],
	);
	// biome-ignore lint/correctness/useExhaustiveDependencies: the dependencies are what invalidates the cache, not what builds it.
	const fileLines = useMemo(() => new WeakMap<FilesState, Line[]>(), [source, detailWidth]);
	const fileLinesFor = useCallback(
		(f: FilesState): Line[] => {
			let lines = fileLines.get(f);
			if (lines === undefined) {
				lines = source === null ? [] : fileDetailLines(source, f, Math.max(1, detailWidth - 1));
				fileLines.set(f, lines);
			}
			return lines;
		},
		[fileLines, source, detailWidth],
	);
	return {linesFor, fileLinesFor};
}

/** Entries walked per step of the folder sizes, and the pause between steps (keys are handled in it). */
const sizeBudget = 2000;
const sizePauseMs = 15;

/**
 * Folder sizes for the files view's rows on screen: walked a step at a time (folder-sizes.ts)
 * on timers, so keys are handled between steps; each step redraws (the spinner turns).
 */
function useFolderSizes(source: Source | null, files: FilesState | null, height: number) {
	const sizer = useMemo(() => (source === null ? null : makeFolderSizer(source)), [source]);
	const [step, setStep] = useState(0);
	useEffect(() => {
		if (sizer === null || files === null) return;
		sizer.request(files, files.top, files.top + height);
		let timer: ReturnType<typeof setTimeout> | null = null;
		const tick = () => {
			const more = sizer.step(sizeBudget);
			setStep(n => n + 1);
			timer = more ? setTimeout(tick, sizePauseMs) : null;
		};
		timer = setTimeout(tick, 0);
		return () => {
			if (timer !== null) clearTimeout(timer);
		};
	}, [sizer, files, height]);
	// biome-ignore lint/correctness/useExhaustiveDependencies: step is what says the sizes moved on.
	const dirSize = useCallback(
		(row: FileRow) => (files === null || sizer === null ? undefined : sizer.get(files, row)),
		[sizer, files, step],
	);
	return {dirSize, frame: step};
}

/** The panes between the top and the status lines: tree (or files) and details, side by side or stacked; the help instead when it is open. */
function Body({
	nav,
	layout,
	treePane,
	detailPane,
}: {
	nav: NavState;
	layout: PaneLayout;
	treePane: ReactNode;
	detailPane: ReactNode;
}) {
	const bodyHeight = layout.lines - 2;
	if (nav.help) return <HelpOverlay width={layout.width} height={bodyHeight} />;
	if (layout.sideBySide) {
		return (
			<Box flexDirection="row" height={bodyHeight}>
				{treePane}
				<Box width={1} height={bodyHeight} overflow="hidden">
					<Text dimColor>{Array.from({length: bodyHeight}, () => '│').join('\n')}</Text>
				</Box>
				{detailPane}
			</Box>
		);
	}
	return (
		<Box flexDirection="column" height={bodyHeight}>
			{treePane}
			{detailPane}
		</Box>
	);
}

/** Follows the pane sizes into the state, quits when asked, and feeds keys to the reducer. */
function useNavInput(nav: NavState, setNav: Dispatch<SetStateAction<NavState>>, ctx: NavContext, layout: PaneLayout) {
	const {exit} = useApp();
	useEffect(() => {
		setNav(s => reduce(s, {type: 'resize', treeHeight: layout.treeRows, detailHeight: layout.detailRows}));
	}, [layout.treeRows, layout.detailRows, setNav]);

	useEffect(() => {
		if (nav.quit) exit();
	}, [nav.quit, exit]);

	useInput((input, key) => {
		const name = keyName(input, key);
		setNav(s => reduceKey(s, name, input, ctx));
	});
}

/** What the details pane shows and its title: the disk row's, the file's, or the tree node's. */
function detailContent(
	nav: NavState,
	linesFor: (node: TreeNode) => readonly Line[],
	fileLinesFor: (f: FilesState) => readonly Line[],
): {lines: readonly Line[]; title: string} {
	const node = selected(nav);
	const filesView = nav.files ?? null;
	const diskView = nav.disk ?? null;
	const lines =
		diskView !== null
			? diskDetailLines(diskView)
			: filesView !== null
				? fileLinesFor(filesView)
				: node === undefined
					? []
					: linesFor(node);
	const title =
		diskView !== null
			? (diskView.rows?.[diskView.cursor]?.label ?? 'disk')
			: filesView !== null
				? (selectedFile(filesView)?.name ?? 'empty directory')
				: detailTitle(node);
	return {lines, title};
}

type LeftPaneParts = {
	readonly nav: NavState;
	readonly tree: TreeIndex;
	readonly layout: PaneLayout;
	/** The disk view's spinner step. */
	readonly frame: number;
	readonly sizes: RowSizes | null;
	readonly dirSize: (row: FileRow) => DirSize | undefined;
	/** The folder sizes' spinner step. */
	readonly sizeFrame: number;
};

/** The left (or upper) pane: the disk view, the files view, or the tree. */
function leftPane({nav, tree, layout, frame, sizes, dirSize, sizeFrame}: LeftPaneParts): ReactNode {
	const filesView = nav.files ?? null;
	const diskView = nav.disk ?? null;
	return diskView !== null ? (
		<DiskPane disk={diskView} height={layout.treeRows} width={layout.treeWidth} focused frame={frame} />
	) : filesView !== null ? (
		<FilesPane
			files={filesView}
			height={layout.treeRows}
			width={layout.treeWidth}
			focused={nav.focus === 'tree'}
			dirSize={dirSize}
			frame={sizeFrame}
		/>
	) : (
		<TreePane
			tree={tree}
			rows={nav.rows}
			top={nav.top}
			cursor={nav.cursor}
			height={layout.treeRows}
			width={layout.treeWidth}
			focused={nav.focus === 'tree'}
			filter={nav.filter}
			sizes={sizes}
		/>
	);
}

/** The interactive explorer: tree, details, status bar; the one useInput of the UI lives here. */
export function App({
	model,
	source,
	loading = false,
	details = null,
	sample = false,
	width,
	height,
	color = true,
	ledger = null,
}: AppProps) {
	const terminal = useTerminalSize();
	const layout = paneLayout(width ?? terminal.columns, height ?? terminal.rows);
	const tree = useMemo(() => buildTree(model, {loading}), [model, loading]);
	const {linesFor, fileLinesFor} = useDetailLines(tree, source, details, layout.detailWidth);
	const [current, setNav] = useState(() => initNav(tree, layout.treeRows, layout.detailRows));
	const onDisk = useCallback((disk: DiskState) => setNav(s => reduce(s, {type: 'diskReady', disk})), []);
	const {open: openDisk, frame, sizes} = useLedger(ledger, tree, onDisk);
	const ctx: NavContext = useMemo(
		() => ({
			detailLength: (node: TreeNode) => linesFor(node).length,
			source,
			filesDetailLength: (f: FilesState) => fileLinesFor(f).length,
			disk: openDisk,
		}),
		[linesFor, source, fileLinesFor, openDisk],
	);
	// A new model (the rest of the root came in): the same view over the new tree, in this very frame.
	let nav = current;
	if (current.tree !== tree) {
		nav = retree(current, tree);
		setNav(nav);
	}

	useNavInput(nav, setNav, ctx, layout);
	const {dirSize, frame: sizeFrame} = useFolderSizes(source, nav.files ?? null, layout.treeRows);
	const {lines, title} = detailContent(nav, linesFor, fileLinesFor);
	const treePane = leftPane({nav, tree, layout, frame, sizes, dirSize, sizeFrame});
	const detailPane = (
		<DetailPane
			title={title}
			lines={lines}
			scroll={nav.detailScroll}
			height={layout.detailRows}
			width={layout.detailWidth}
			focused={nav.focus === 'details'}
		/>
	);
	return (
		<ColorContext.Provider value={color}>
			<Box flexDirection="column" width={layout.width} height={layout.lines}>
				<Body nav={nav} layout={layout} treePane={treePane} detailPane={detailPane} />
				<StyledLine line={promptLine(nav)} width={layout.width} />
				<StyledLine
					line={statusLine(model, {sample, loading}, nav.filter, layout.width)}
					width={layout.width}
					inverse
				/>
			</Box>
		</ColorContext.Provider>
	);
}
