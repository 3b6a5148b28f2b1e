/**
 * Every root Terraform module's outputs, read from its HCL and held to the output contract's tables in
 * src/infra/contract.ts (terraform/CONTRACT.md): aws, gcp, two-clouds, local and qemu alike. No
 * terraform, no provider, no network: the Google provider is not in the offline mirror, so gcp and
 * two-clouds cannot be planned here (terraform-static.test.ts plans local, qemu and aws), but their
 * HCL says what they would output. Needs only the HCL parser @cdktn/hcl2json (HashiCorp's hcl2json,
 * built to WebAssembly).
 *
 * `hosts` is followed through the HCL: a module's output (`module.site.hosts`) into the child module,
 * `concat(…)` into its parts, `[for … : { … }]` into the object it builds, `merge(…)` into the objects
 * it merges (a local's among them). Each output and host field then has a shape: a literal, a local
 * that is one, and a variable's default go through the contract's own reader (parseModuleOutputs); a
 * variable's declared type, a template (a string), a function Terraform types (abspath: a string) or a
 * `for` variable over a typed list give a type that must be the contract's; the rest (a resource's
 * attribute, a computed local) is known only after apply, and only its presence is checked.
 * Shared files linked in from terraform/lib are read as the module's own, as Terraform reads them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { errorMessage } from '../../src/errors.ts';
import { HOST_FIELDS, MODULE_OUTPUTS, parseModuleOutputs, type ContractType } from '../../src/infra/contract.ts';

const TF = path.join(REPO_ROOT, 'terraform');

/**
 * The two functions of @cdktn/hcl2json used here. Loaded with require and typed here: the package's
 * own types reference the DOM library, whose FormData would replace Node's for the whole project.
 */
interface Hcl2Json {
  /** A .tf file as hcl2json's JSON: blocks by type and name, attribute values as `${expr}` strings. */
  parse(file: string, text: string): Promise<Record<string, unknown>>;
  /** An HCL expression's syntax tree. */
  getExpressionAst(file: string, expression: string): Promise<unknown>;
}
function hcl2json(): Hcl2Json {
  try {
    return createRequire(import.meta.url)('@cdktn/hcl2json') as Hcl2Json;
  } catch (e) {
    throw new Error(`these checks need the devDependency @cdktn/hcl2json (npm install): ${errorMessage(e)}`);
  }
}
const { parse, getExpressionAst } = hcl2json();

/** The providers whose name each root module's hosts carry. A new module is checked too, once it is listed here. */
const PROVIDERS: Record<string, string[]> = { aws: ['aws'], gcp: ['gcp'], 'two-clouds': ['aws', 'gcp'], local: ['local'], qemu: ['qemu'] };

/** Root modules: directories right under terraform/ with .tf files (modules/ holds the child modules, lib/ the files they share). */
const ROOTS = readdirSync(TF, { withFileTypes: true })
  .filter((e) => e.isDirectory() && e.name !== 'modules' && e.name !== 'lib' && readdirSync(path.join(TF, e.name)).some((f) => f.endsWith('.tf')))
  .map((e) => e.name)
  .sort();

/** A node of the AST getExpressionAst returns (only what is read here). */
interface Node {
  type: string;
  meta?: Record<string, unknown>;
  children?: Node[];
}

/** What a value is known to be before apply: its type, and a value the reader can check (a literal, a variable's default). */
interface Shape {
  type: ContractType | 'bool' | 'null' | 'object' | 'unknown';
  value?: unknown;
  /** The HCL it came from, for messages. */
  via: string;
}

/** The blocks of one module that matter here, from all its .tf files. */
interface Module {
  /** Relative to terraform/, e.g. `modules/gcp-site`. */
  rel: string;
  outputs: Record<string, unknown>;
  variables: Record<string, { type?: string; default?: unknown }>;
  locals: Record<string, unknown>;
  modules: Record<string, { source?: string }>;
}

/** A module's .tf files by name; tests give inline ones. */
type Loader = (rel: string) => Record<string, string>;

const fromDisk: Loader = (rel) => {
  const dir = path.join(TF, rel);
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.tf')).sort().map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
};

async function readModule(rel: string, load: Loader): Promise<Module> {
  const m: Module = { rel, outputs: {}, variables: {}, locals: {}, modules: {} };
  for (const [file, text] of Object.entries(load(rel))) {
    const j = (await parse(`${rel}/${file}`, text)) as Record<string, Record<string, Record<string, unknown>[]> | undefined>;
    for (const [name, [block]] of Object.entries(j.output ?? {})) m.outputs[name] = block!.value;
    for (const [name, [block]] of Object.entries(j.variable ?? {})) m.variables[name] = block as Module['variables'][string];
    for (const [name, [block]] of Object.entries(j.module ?? {})) m.modules[name] = block as Module['modules'][string];
    // `locals` blocks are not named: hcl2json lists each as one object of its values.
    for (const block of (j.locals ?? []) as unknown as Record<string, unknown>[]) Object.assign(m.locals, block);
  }
  return m;
}

async function ast(text: string, where: string): Promise<Node> {
  return (await getExpressionAst(`${where}.tf`, text)) as Node;
}

/** An attribute's value as hcl2json gives it (`"${expr}"`, a template, or plain JSON) as an expression node. */
async function expression(value: unknown, where: string): Promise<Node> {
  if (typeof value !== 'string') return { type: 'json', meta: { value } };
  const whole = /^\$\{([\s\S]*)\}$/.exec(value);
  if (whole) {
    try {
      return await ast(whole[1]!, where);
    } catch {
      // "${a}-${b}": a template, not one expression
    }
  }
  return value.includes('${') ? { type: 'template', meta: { value } } : { type: 'json', meta: { value } };
}

/** `${string}`, `${list(string)}` (a variable's declared type) in the contract's terms. */
function declared(type: string | undefined): Shape['type'] {
  const t = /^\$\{\s*(\w+)/.exec(type ?? '')?.[1];
  if (t === 'string' || t === 'number' || t === 'bool') return t;
  if (t === 'list' || t === 'set' || t === 'tuple') return 'list';
  return t === 'map' || t === 'object' ? 'object' : 'unknown';
}

/** The element type of `list(string)`. */
function elementOf(type: string | undefined): Shape['type'] {
  const inner = /^\$\{\s*(?:list|set)\(\s*(\w+)\s*\)\s*\}$/.exec(type ?? '')?.[1];
  return inner ? declared(`\${${inner}}`) : 'unknown';
}

const STRING_FUNCTIONS = new Set(['abspath', 'basename', 'format', 'join', 'lower', 'replace', 'trimspace', 'tostring', 'upper']);

function jsonShape(value: unknown, via: string): Shape {
  if (value === null) return { type: 'null', value, via };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { type: typeof value === 'boolean' ? 'bool' : (typeof value as 'string' | 'number'), value, via };
  return { type: Array.isArray(value) ? 'list' : 'object', via };
}

/** What a node is known to be; `scope` types a `for` variable. */
async function shapeOf(n: Node, m: Module, scope: Record<string, Shape['type']>, depth = 0): Promise<Shape> {
  const via = String(n.meta?.value ?? n.type);
  switch (n.type) {
    case 'json':
      return jsonShape(n.meta!.value, JSON.stringify(n.meta!.value));
    case 'literalValue': {
      const t = n.meta!.type;
      if (t === 'number') return { type: 'number', value: Number(n.meta!.value), via };
      if (t === 'bool') return { type: 'bool', value: n.meta!.value === 'true', via };
      if (t === 'string') return { type: 'string', value: n.meta!.value, via };
      return n.meta!.value === 'null' ? { type: 'null', value: null, via } : { type: 'unknown', via };
    }
    case 'template': {
      const parts = n.children ?? [];
      const literal = parts.length > 0 && parts.every((c) => c.type === 'literalValue' && c.meta!.type === 'string');
      return literal ? { type: 'string', value: parts.map((c) => c.meta!.value).join(''), via } : { type: 'string', via };
    }
    case 'templateWrap':
      return shapeOf(n.children![0]!, m, scope, depth);
    case 'scopeTraversal': {
      const name = String(n.meta!.fullAccessor);
      const v = /^var\.([\w-]+)$/.exec(name)?.[1];
      if (v !== undefined) {
        const decl = m.variables[v];
        if (!decl) return { type: 'unknown', via: `${via} (no such variable in terraform/${m.rel})` };
        return 'default' in decl ? { type: declared(decl.type), value: decl.default, via } : { type: declared(decl.type), via };
      }
      const local = /^local\.([\w-]+)$/.exec(name)?.[1];
      if (local !== undefined && local in m.locals && depth < 8) {
        const s = await shapeOf(await expression(m.locals[local], m.rel), m, {}, depth + 1);
        return { ...s, via: `${via} (${s.via})` };
      }
      return { type: scope[name] ?? 'unknown', via };
    }
    case 'function': {
      const fn = String(n.meta!.name);
      if (STRING_FUNCTIONS.has(fn)) return { type: 'string', via };
      if (fn === 'tonumber') return { type: 'number', via };
      return { type: fn === 'concat' ? 'list' : 'unknown', via };
    }
    case 'conditional': {
      const [, yes, no] = await Promise.all((n.children ?? []).map((c) => shapeOf(c, m, scope, depth)));
      return { type: yes && no && yes.type === no.type ? yes.type : 'unknown', via };
    }
    default:
      return { type: 'unknown', via };
  }
}

/** One object constructor that `hosts` lists, with its fields' expressions. */
interface HostObject {
  /** Where it is, e.g. `terraform/modules/gcp-site: hosts`. */
  from: string;
  module: Module;
  items: Record<string, string>;
  scope: Record<string, Shape['type']>;
}

/**
 * The fields an expression builds an object of, each with its expression: an object constructor,
 * `merge(…)` of such (later ones win, as in Terraform), or a local that is one, or a collection of
 * them (`local.host_extra[h]`, a `for` building them). Null when it cannot be seen before apply.
 */
async function objectItems(n: Node, m: Module, depth = 0): Promise<Record<string, string> | null> {
  if (depth > 8) return null;
  switch (n.type) {
    case 'object':
      return { ...(n.meta!.items as Record<string, string>) };
    case 'templateWrap':
      return objectItems(n.children![0]!, m, depth + 1);
    case 'function': {
      if (n.meta!.name !== 'merge') return null;
      const parts = await Promise.all((n.children ?? []).map((c) => objectItems(c, m, depth + 1)));
      return parts.every((p) => p !== null) ? Object.assign({}, ...parts) : null;
    }
    case 'index':
      return objectItems(n.children![0]!, m, depth + 1);
    case 'for':
      return objectItems(n.children!.at(-1)!, m, depth + 1);
    case 'scopeTraversal': {
      const local = /^local\.([\w-]+)$/.exec(String(n.meta!.fullAccessor))?.[1];
      return local !== undefined && local in m.locals ? objectItems(await expression(m.locals[local], m.rel), m, depth + 1) : null;
    }
    default:
      return null;
  }
}

/** Follows `hosts` to the objects it lists; anything it cannot follow is a problem. */
async function hostObjects(n: Node, m: Module, load: Loader, from: string, problems: string[]): Promise<HostObject[]> {
  const where = `terraform/${m.rel}: ${from}`;
  if (n.type === 'templateWrap') return hostObjects(n.children![0]!, m, load, from, problems);
  if (n.type === 'function' && n.meta!.name === 'concat') {
    const parts = await Promise.all((n.children ?? []).map((c) => hostObjects(c, m, load, from, problems)));
    return parts.flat();
  }
  if (n.type === 'scopeTraversal') {
    const ref = /^module\.([\w-]+)\.([\w-]+)$/.exec(String(n.meta!.fullAccessor));
    const source = ref ? m.modules[ref[1]!]?.source : undefined;
    if (ref && source?.startsWith('.')) {
      const child = await readModule(path.posix.normalize(path.posix.join(m.rel, source)), load);
      if (!(ref[2]! in child.outputs)) {
        problems.push(`${where} is ${n.meta!.value}, but terraform/${child.rel} has no output '${ref[2]}'`);
        return [];
      }
      return hostObjects(await expression(child.outputs[ref[2]!], child.rel), child, load, ref[2]!, problems);
    }
  }
  if (n.type === 'for') {
    const list = n.meta!.openRangeValue === '[' && !n.meta!.keyExpression;
    const items = list ? await objectItems(n.children!.at(-1)!, m) : null;
    if (!list) problems.push(`${where} builds a map ({for …}): the contract's hosts is a list ([for …])`);
    else if (!items) problems.push(`${where}: each element must be an object constructor { name = …, … }, or a merge of them (got ${n.meta!.valueExpression})`);
    else {
      const collection = n.children![0]!;
      const v = /^var\.([\w-]+)$/.exec(String(collection.meta?.fullAccessor ?? ''))?.[1];
      const element = v !== undefined ? elementOf(m.variables[v]?.type) : 'unknown';
      return [{ from: where, module: m, items, scope: { [String(n.meta!.valVar)]: element } }];
    }
    return [];
  }
  if (n.type === 'tuple') {
    const objects = await Promise.all((n.children ?? []).map((c) => objectItems(c, m)));
    if (objects.every((o) => o !== null)) return objects.map((items) => ({ from: where, module: m, items: items!, scope: {} }));
  }
  problems.push(`${where} is ${String(n.meta?.value ?? n.type)}: cannot follow it to the host objects it lists (a list of objects, a [for …], concat(…) or a module's output)`);
  return [];
}

/** A host the reader accepts, for checking one field's value at a time. */
const SAMPLE_HOST = { name: 'h-1', address: '192.0.2.1', port: 22, user: 'root', host_key_file: '/keys/h-1.pub', provider: 'p', cloud: 'c' };

/** The reader's verdict on outputs, as a problem or null. */
function readerSays(outputs: Record<string, unknown>, source: string): string | null {
  try {
    parseModuleOutputs(Object.fromEntries(Object.entries({ environment: 'e', hosts: [], ...outputs }).map(([k, value]) => [k, { value }])), source);
    return null;
  } catch (e) {
    return errorMessage(e);
  }
}

/** A shape against the contract's type: a problem, or null. Unknown until apply is no problem; null is for optional ones. */
function typeProblem(s: Shape, want: { type: ContractType; required: boolean }): string | null {
  if (s.type === 'unknown' || s.type === want.type || (s.type === 'null' && !want.required)) return null;
  return `is ${s.via}, of type ${s.type}: the contract wants a ${want.type}`;
}

interface Report {
  problems: string[];
  /** Each host object's literal provider, or its source where not literal. */
  providers: string[];
  /** How many host objects `hosts` lists. */
  objects: number;
}

/** Everything about a root module's outputs that breaks the contract, and what it says of providers. */
async function check(rel: string, load: Loader = fromDisk): Promise<Report> {
  const m = await readModule(rel, load);
  const problems: string[] = [];
  const providers: string[] = [];
  let objects = 0;
  for (const [name, want] of Object.entries(MODULE_OUTPUTS)) {
    if (!(name in m.outputs)) {
      if (want.required) problems.push(`terraform/${rel}: output '${name}' is missing`);
      continue;
    }
    const n = await expression(m.outputs[name], rel);
    if (name === 'hosts') {
      const hosts = await hostObjects(n, m, load, 'hosts', problems);
      objects = hosts.length;
      for (const h of hosts) {
        for (const [field, fwant] of Object.entries(HOST_FIELDS)) {
          const text = h.items[field];
          if (text === undefined) {
            if (fwant.required) problems.push(`${h.from}: field '${field}' is missing`);
            continue;
          }
          const s = await shapeOf(await ast(text, h.module.rel), h.module, h.scope);
          const bad = typeProblem(s, fwant);
          if (bad) problems.push(`${h.from}: field '${field}' ${bad}`);
          else if (s.value !== undefined && !(s.value === null && !fwant.required)) {
            const said = readerSays({ hosts: [{ ...SAMPLE_HOST, [field]: s.value }] }, h.from);
            if (said) problems.push(`${h.from}: field '${field}' = ${s.via}: ${said}`);
          }
          if (field === 'provider') providers.push(typeof s.value === 'string' ? s.value : s.via);
        }
      }
      continue;
    }
    const s = await shapeOf(n, m, {});
    const bad = typeProblem(s, want);
    if (bad) problems.push(`terraform/${rel}: output '${name}' ${bad}`);
    else if (s.value !== undefined) {
      const said = readerSays({ [name]: s.value }, `terraform/${rel}`);
      if (said) problems.push(`terraform/${rel}: output '${name}' = ${s.via}: ${said}`);
    }
  }
  return { problems, providers, objects };
}

describe('Terraform outputs against the contract, from the HCL (no provider needed)', () => {
  it('knows the providers of every root module', () => {
    expect(ROOTS).toEqual(expect.arrayContaining(['aws', 'gcp', 'local', 'qemu', 'two-clouds']));
    for (const rel of ROOTS) expect(PROVIDERS[rel], `terraform/${rel}: list its hosts' provider in PROVIDERS`).toBeDefined();
  });

  describe.each(ROOTS)('terraform/%s', (rel) => {
    let report: Report;
    beforeAll(async () => {
      report = await check(rel);
    });

    it('has each output the contract requires, of its type; every host object has each required field, of its type, and its literals and defaults pass the reader', () => {
      expect(report.problems).toEqual([]);
      expect(report.objects).toBeGreaterThan(0);
    });

    it("names its provider in each host", () => {
      expect(report.providers).toEqual(PROVIDERS[rel]);
    });
  });

  describe('finds what breaks the contract', () => {
    const inline =
      (files: Record<string, Record<string, string>>): Loader =>
      (rel) =>
        files[rel] ?? {};

    it('a missing output, a host field missing or of the wrong type, a literal the reader refuses (a merged one too), a map for a list', async () => {
      const load = inline({
        bad: {
          'main.tf': `
variable "hosts" {
  type = list(string)
}
variable "port" {
  type    = string
  default = "22"
}
locals {
  extra = { for h in var.hosts : h => { user = "Root" } }
}
output "environment" {
  value = ""
}
output "hosts" {
  value = concat(module.site.hosts, [for h in var.hosts : merge({
    name          = h
    address       = "10.0.0.1"
    port          = var.port
    user          = "root"
    host_key_file = "keys/\${h}.pub"
    provider      = "AWS"
  }, local.extra[h])])
}
module "site" {
  source = "./site"
}
`,
        },
        'bad/site': { 'outputs.tf': 'output "hosts" {\n  value = { for h in ["a"] : h => { name = h } }\n}\n' },
      });
      const { problems } = await check('bad', load);
      expect(problems).toEqual([
        expect.stringMatching(/^terraform\/bad: output 'environment' = .*'environment' must be a non-empty string/),
        "terraform/bad/site: hosts builds a map ({for …}): the contract's hosts is a list ([for …])",
        "terraform/bad: hosts: field 'port' is var.port, of type string: the contract wants a number",
        expect.stringMatching(/^terraform\/bad: hosts: field 'user' = "Root": .*'hosts\[0\]\.user' must be a user name/),
        expect.stringMatching(/^terraform\/bad: hosts: field 'provider' = "AWS": .*'hosts\[0\]\.provider' must be a provider's name/),
        "terraform/bad: hosts: field 'cloud' is missing",
      ]);
    });

    it('a module without hosts', async () => {
      const { problems } = await check('none', inline({ none: { 'main.tf': 'output "environment" {\n  value = "none"\n}\n' } }));
      expect(problems).toEqual(["terraform/none: output 'hosts' is missing"]);
    });
  });
});
