/**
 * Exec health checks live with the others in src/migrate/health.ts (the engine runs them after a
 * restore); re-exported here for the workloads API.
 */
export { execHealthArgv, probeExec, type ProbeExecOptions } from '../migrate/health.ts';
