/**
 * The migration methods as plain values, read from the one registry (methods/builtin.ts): what the
 * chat core, the CLI and reports use. A new method appears here by being registered there.
 */
import type { HostCapabilities } from '../hosts/probe.ts';
import { methods } from './methods/builtin.ts';
import type { MethodChoice, MethodRegistry } from './methods/registry.ts';

export { MIN_CRIU, MethodRegistry, type MethodChoice, type MethodRecord, type MethodRequest } from './methods/registry.ts';
export { methods } from './methods/builtin.ts';

/** A method's name (a registry key). */
export type Method = string;

export const METHODS: readonly string[] = methods.names();

export const METHOD_INFO: Readonly<Record<string, { title: string; preCopy: boolean; pageServer: boolean; lazy: boolean }>> = Object.fromEntries(
  methods.records().map((r) => [r.name, { title: r.title, ...r.traits }]),
);

/** The title of a method, or its name for one this process does not know (a report from elsewhere). */
export function methodTitle(name: string, registry: MethodRegistry = methods): string {
  return registry.has(name) ? registry.get(name).title : name;
}

export function parseMethod(s: string, registry: MethodRegistry = methods): string {
  return registry.parse(s);
}

export function methodBlocker(method: string, source: HostCapabilities, target: HostCapabilities, registry: MethodRegistry = methods): string | null {
  return registry.blocker(method, source, target);
}

export function chooseMethod(requested: string, source: HostCapabilities, target: HostCapabilities, registry: MethodRegistry = methods): MethodChoice {
  return registry.choose(requested, source, target);
}
