import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { validateName } from '../util/names.ts';
import type { OciSpec } from './oci.ts';

/**
 * Containers that move as one (issue 13: WordPress and its database): each member's config.json
 * names its group and its place in it. The group's migration restores members in ascending order
 * (the database, 0, before the web server, 1) and reads these two annotations back.
 */
export const GROUP_ANNOTATION = 'org.ferry.group';
/** The member's place in its group: a whole number, lowest first (restored first, health-checked first). */
export const GROUP_ORDER_ANNOTATION = 'org.ferry.group.order';

/** The largest order accepted: a group of a thousand containers is not a group any more. */
export const MAX_GROUP_ORDER = 999;

export interface GroupLabel {
  /** The group's name (the same rules as a container name: it reaches commands and chat). */
  name: string;
  /** The member's place, 0 to {@link MAX_GROUP_ORDER}. */
  order: number;
}

/** Checks a label: a valid name and a whole order in range; throws a usage error saying which. */
export function validateGroup(g: GroupLabel): GroupLabel {
  try {
    validateName('container', g.name);
  } catch (e) {
    throw new FerryError(ErrorCode.InvalidName, `invalid group name: ${errorMessage(e).replace(/^invalid container name /, '')}`);
  }
  if (!Number.isInteger(g.order) || g.order < 0 || g.order > MAX_GROUP_ORDER) {
    throw new FerryError(ErrorCode.UsageError, `group order must be a whole number from 0 to ${MAX_GROUP_ORDER} (got ${g.order})`);
  }
  return g;
}

/** The config with the group's two annotations set. Pure: returns a new object. */
export function withGroup<T extends Pick<OciSpec, 'annotations'>>(config: T, g: GroupLabel): T {
  validateGroup(g);
  return { ...config, annotations: { ...config.annotations, [GROUP_ANNOTATION]: g.name, [GROUP_ORDER_ANNOTATION]: String(g.order) } };
}

/** The group a config.json puts its container in, or null (none, or annotations Ferry did not write). Pure. */
export function groupOf(config: Pick<OciSpec, 'annotations'>): GroupLabel | null {
  const name = config.annotations?.[GROUP_ANNOTATION];
  const order = config.annotations?.[GROUP_ORDER_ANNOTATION];
  if (!name || order === undefined || !/^\d{1,3}$/.test(order)) return null;
  try {
    return validateGroup({ name, order: Number(order) });
  } catch {
    return null;
  }
}
