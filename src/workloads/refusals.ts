import { posix } from 'node:path';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';
import { bundleDir } from '../hosts/paths.ts';
import { validateName } from '../util/names.ts';
import { DEFAULT_DEVICES, SELF_CONTAINED_MOUNT_TYPES, type OciMount, type OciSpec } from './oci.ts';

/** One reason a container cannot be a Ferry container, with the code a caller switches on. */
export interface Refusal {
  code: ErrorCode;
  reason: string;
}

/**
 * Everything in a final config.json that CRIU cannot move between hosts (or Ferry cannot name),
 * each with its reason and what to do. Pure. Empty when the container can be deployed.
 */
export function findRefusals(config: OciSpec, name: string): Refusal[] {
  const out: Refusal[] = [];
  try {
    validateName('container', name);
  } catch (e) {
    out.push({ code: ErrorCode.InvalidName, reason: errorMessage(e) });
  }
  if (config.process?.terminal) {
    out.push({
      code: ErrorCode.RefusedTerminal,
      reason: 'it asks for a terminal (process.terminal true): its console would live outside the container, and CRIU cannot dump it. Set process.terminal to false (Ferry gives it /dev/null)',
    });
  }
  for (const m of config.mounts ?? []) {
    const r = mountRefusal(m, name);
    if (r) out.push(r);
  }
  for (const d of config.linux?.devices ?? []) {
    const known = DEFAULT_DEVICES.find((x) => x.path === d.path && x.major === d.major && x.minor === d.minor && d.type === 'c');
    if (!known) {
      out.push({
        code: ErrorCode.RefusedDevice,
        reason: `device ${d.path} (${d.type} ${d.major}:${d.minor}) is beyond the default set (/dev/null, zero, full, random, urandom, tty): the target host may not have it and CRIU cannot move an open device. Remove it from linux.devices`,
      });
    }
  }
  for (const ns of config.linux?.namespaces ?? []) {
    if (ns.type === 'user' && !ns.path) {
      if (!identityMapped(config.linux)) {
        out.push({
          code: ErrorCode.RefusedNamespace,
          reason:
            'it runs in a user namespace that shifts ids (or has no mappings): Ferry moves only the identity mapping (uidMappings and gidMappings mapping every id to itself), which needs no shifting of file owners and is the same on every host. Map ids to themselves, or remove the user namespace',
        });
      }
    } else if (ns.path) {
      out.push({
        code: ErrorCode.RefusedNamespace,
        reason: `it joins an existing ${ns.type} namespace (${ns.path}): that namespace stays on this host and CRIU cannot recreate it elsewhere. Remove its path${ns.type === 'network' ? " (Ferry's containers share their host's network)" : ''}`,
      });
    }
  }
  return out;
}

/**
 * True when the container's user namespace maps every id to itself (containerID = hostID), as the
 * WordPress workload's does: runc recreates it from config.json on restore, and file owners in
 * the rootfs mean the same on every host. Shifted mappings are refused: untested with CRIU here.
 */
export function identityMapped(linux: OciSpec['linux']): boolean {
  const ok = (m: unknown): boolean => {
    if (!Array.isArray(m) || m.length === 0) return false;
    return m.every((e: { containerID?: unknown; hostID?: unknown; size?: unknown }) => typeof e?.containerID === 'number' && e.containerID === e.hostID && typeof e.size === 'number' && e.size > 0);
  };
  return ok(linux?.uidMappings) && ok(linux?.gidMappings);
}

function mountRefusal(m: OciMount, name: string): Refusal | null {
  const isBind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
  if (isBind) {
    if (insideBundle(m.source ?? '', name)) return null;
    return {
      code: ErrorCode.RefusedBindMount,
      reason: `bind mount of ${m.source ?? '(no source)'} at ${m.destination}: a host path outside the bundle, which the target host does not have (or has with other contents), so CRIU cannot restore it there. Put the files in the rootfs, or bind a directory inside the bundle by a relative path`,
    };
  }
  if (m.type && SELF_CONTAINED_MOUNT_TYPES.includes(m.type)) return null;
  return {
    code: ErrorCode.RefusedMount,
    reason: `${m.type ?? 'untyped'} mount of ${m.source ?? '(no source)'} at ${m.destination}: CRIU recreates only ${SELF_CONTAINED_MOUNT_TYPES.join(', ')} mounts and bind mounts from inside the bundle`,
  };
}

/** Relative sources are read from the bundle by runc; absolute ones must lie in the bundle's directory on the host. */
function insideBundle(source: string, name: string): boolean {
  if (!source) return false;
  const p = posix.normalize(source);
  if (!posix.isAbsolute(p)) return p !== '..' && !p.startsWith('../');
  return p.startsWith(`${bundleDir(name)}/`);
}

/** Throws the first refusal as a FerryError with its code; `details.refusals` lists them all. */
export function assertMovable(config: OciSpec, name: string): void {
  const all = findRefusals(config, name);
  if (all.length === 0) return;
  const more = all.length > 1 ? ` (and ${all.length - 1} more: ${all.slice(1).map((r) => r.code).join(', ')})` : '';
  throw new FerryError(all[0]!.code, `cannot deploy ${name}: ${all[0]!.reason}${more}`, { details: { refusals: all } });
}

/** A container as listed on a host (src/hosts/containers.ts's listContainers gives this shape). */
export interface ListedContainer {
  host: string;
  name: string;
  status?: string;
}

/** Refuses a name that any host already runs (in any state): a container runs on exactly one host. */
export function assertNameFree(name: string, containers: Iterable<ListedContainer>): void {
  const there = [...containers].filter((c) => c.name === name);
  if (there.length === 0) return;
  const where = there.map((c) => `${c.host}${c.status ? ` (${c.status})` : ''}`).join(', ');
  throw new FerryError(ErrorCode.ContainerExists, `a container named ${name} already exists on ${where}: pick another name, or remove it first with ferry rm ${name}`, {
    details: { hosts: there.map((c) => c.host) },
  });
}
