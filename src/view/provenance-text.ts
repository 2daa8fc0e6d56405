import type {ConfigMark, HostMark, Origin, Provenance} from '../teach/provenance.ts';
import {shortId} from './format.ts';
import type {Paint} from './paint.ts';
import {clean} from './sanitize.ts';

/** Any stored value as one line: strings as they are, the rest as JSON; always cleaned. */
function valueText(v: unknown): string {
	if (v === undefined) return '(absent)';
	if (v === null) return 'null';
	if (typeof v === 'string') return v === '' ? '""' : clean(v);
	return clean(JSON.stringify(v) ?? String(v));
}

const originLegend = 'image = from the image\'s config; user = in the create request (a flag, the command, or the docker client\'s default); daemon = filled in by the daemon; default = not set';

function originTone(p: Paint, o: Origin | HostMark['origin']): (s: string) => string {
	return o === 'user' ? p.ok : o === 'daemon' ? p.info : o === 'image' ? p.role : o === 'unknown' ? p.warning : p.dim;
}

/** A mark's value: an entry as KEY=VALUE (Env is already one), a field as its value. */
export function markValue(m: ConfigMark): string {
	if (m.key === null) return valueText(m.value);
	if (m.field === 'Env') return m.value === undefined ? `${clean(m.key)} (absent)` : valueText(m.value);
	if (m.field === 'Labels') return m.value === undefined ? `${clean(m.key)} (absent)` : `${clean(m.key)}=${valueText(m.value)}`;
	return m.value === undefined ? `${clean(m.key)} (absent)` : clean(m.key);
}

/** The note for a mark, with the image's value when the user replaced it. */
export function markNote(m: ConfigMark): string {
	const parts: string[] = [];
	if (m.note !== null) parts.push(clean(m.note));
	if (m.imageValue !== undefined && m.origin !== 'image') {
		const iv = m.field === 'Labels' && m.key !== null ? `${clean(m.key)}=${valueText(m.imageValue)}` : valueText(m.imageValue);
		parts.push(`image: ${iv}`);
	}
	return parts.join('; ');
}

/** `inspect CONTAINER --provenance` as text. */
export function renderProvenance(p: Provenance, paint: Paint, imageLabel: string): string {
	const out: string[] = [];
	out.push(`${paint.title('container')} ${paint.id(clean(p.containerName ?? '?'))} ${shortId(p.containerId)}  image ${imageLabel}`);
	out.push(paint.dim(originLegend));
	if (!p.imageKnown) out.push(paint.warning('the image\'s config is not in this root: origins other than the daemon\'s cannot be told (marked unknown)'));
	out.push('');
	out.push(paint.title('Config (config.v2.json), field by field'));
	let last = '';
	for (const m of p.config) {
		const field = m.field === last ? '' : clean(m.field);
		last = m.field;
		const note = markNote(m);
		out.push(`  ${field.padEnd(14)} ${originTone(paint, m.origin)(m.origin.padEnd(7))}  ${markValue(m)}${note === '' ? '' : paint.dim(`   ${note}`)}`);
	}
	if (p.command !== null) out.push(`  ${'(runs)'.padEnd(14)} ${paint.info('daemon'.padEnd(7))}  ${clean(p.command)}${paint.dim('   Path and Args: what the daemon runs, from Entrypoint + Cmd')}`);
	out.push('');
	const set = p.host.filter(h => h.origin === 'user');
	const daemon = p.host.filter(h => h.origin === 'daemon');
	const defaults = p.host.filter(h => h.origin === 'default');
	if (p.host.length === 0) out.push(paint.title('Host settings (hostconfig.json)') + '  not recorded');
	else {
		out.push(paint.title(`Host settings (hostconfig.json) set in the create request: ${set.length}`));
		for (const h of set) out.push(`  ${clean(h.field).padEnd(20)} ${valueText(h.value)}${h.note === null ? '' : paint.dim(`   ${clean(h.note)}`)}`);
		if (daemon.length > 0) {
			out.push(paint.title(`Filled in by the daemon: ${daemon.length}`));
			for (const h of daemon) out.push(`  ${clean(h.field).padEnd(20)} ${paint.dim(clean(h.note ?? ''))}`);
		}
		out.push(paint.dim(`At the client's defaults or zero: ${defaults.length} more (--json lists every field)`));
	}
	return out.join('\n') + '\n';
}

/** `inspect CONTAINER --provenance --json`. */
export function provenanceJson(p: Provenance) {
	return {
		kind: 'provenance',
		container: {id: p.containerId, name: p.containerName},
		image: {id: p.imageId, known: p.imageKnown},
		config: p.config.map(m => ({field: m.field, key: m.key, ...(m.value === undefined ? {} : {value: m.value}), origin: m.origin, ...(m.imageValue === undefined ? {} : {imageValue: m.imageValue}), note: m.note})),
		command: p.command,
		host: p.host,
	};
}
