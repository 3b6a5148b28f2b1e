/**
 * Ferry's layers, written down and checked (`npm run deps`, part of `npm test`). A module may import
 * from its own layer or any layer below it, never above; no import cycles anywhere.
 *
 *   cli                      the `ferry` command
 *   chat                     adapters (Slack, console), chat service, progress relay; chat/core is pure
 *   queue                    BullMQ queue and worker
 *   app                      the use cases: run a migration, plan one, bring up a lab
 *   bench traffic probe charts    around a migration: aggregation, HAProxy and hold server, load probe, plots
 *   migrate infra            the engine and its methods; Terraform, Ansible, environment providers
 *   hosts                    SSH, inventory, capability probe
 *   errors config log util   the ground
 */
const LAYERS = [
  ['src/cli'],
  ['src/chat'],
  ['src/queue'],
  ['src/app'],
  ['src/bench', 'src/traffic', 'src/probe', 'src/charts'],
  ['src/migrate', 'src/infra', 'src/workloads'],
  ['src/hosts'],
  ['src/errors.ts', 'src/config.ts', 'src/log.ts', 'src/util'],
];

const re = (paths) => `^(${paths.map((p) => p.replace(/\./g, '\\.')).join('|')})`;

const upward = LAYERS.slice(1).map((layer, i) => ({
  name: `no-upward-from-${layer[0].replace('src/', '').replace('.ts', '')}`,
  comment: `${layer.join(', ')} may not import from a layer above it (${LAYERS.slice(0, i + 1).flat().join(', ')})`,
  severity: 'error',
  from: { path: re(layer) },
  to: { path: re(LAYERS.slice(0, i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make layers meaningless',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'chat-core-is-pure',
      comment: 'the chat command core parses, decides and renders: no I/O modules',
      severity: 'error',
      from: { path: '^src/chat/core' },
      to: { path: '^src/(chat/(slack|console|ChatService|ProgressRelay|runtime)|queue|hosts/(RemoteHost|session|containers|probe\\.ts)|infra|app|traffic)' },
    },
    {
      name: 'same-layer-siblings-apart',
      comment: 'the engine knows nothing of HAProxy, Terraform or Ansible; infra knows nothing of the engine',
      severity: 'error',
      from: { path: '^src/migrate' },
      to: { path: '^src/(infra|workloads)' },
    },
    {
      name: 'forward-error-stays-in-the-hold-server',
      comment: "ForwardError is the hold server's signal (it answers the client with a status, never throws it on): only HoldServer.ts imports forward.ts, so none reaches toFerryError",
      severity: 'error',
      from: { pathNot: '^src/traffic/(HoldServer|forward)\\.ts$' },
      to: { path: '^src/traffic/forward\\.ts$' },
    },
    {
      name: 'infra-not-migrate',
      severity: 'error',
      from: { path: '^src/infra' },
      to: { path: '^src/migrate' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
