import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.ts';
import { RemoteHost } from '../../../src/hosts/RemoteHost.ts';
import { execHealthArgv, healthTarget, waitHealthy } from '../../../src/migrate/health.ts';

/** The parts of exec health checks that need no host; test/workloads/health-exec.test.ts runs them in a real container. */
describe('exec checks and health targets', () => {
  it('a target made from a host carries its address, its session and the container', () => {
    // Never connected: RemoteHost opens its SSH session on the first command.
    const host = new RemoteHost({ name: 'lab-1', address: '10.0.0.5', port: 22, user: 'root', privateKeyFile: '/nonexistent', hostKey: 'ssh-ed25519 AAAA', environment: 'local' });
    const t = healthTarget(host, 'blog-db');
    expect(t.address).toBe('10.0.0.5');
    expect(t.exec!.host).toBe(host);
    expect(t.exec!.name).toBe('blog-db');
  });

  it('waitHealthy refuses an exec check given only an address: it runs on the host, not from the controller', async () => {
    await expect(waitHealthy('127.0.0.1', { kind: 'exec', argv: ['true'], port: 0 }, 1)).rejects.toMatchObject({ code: ErrorCode.HealthCheckFailed });
  });

  it('runs the command in the container with runc exec, under the given root', () => {
    expect(execHealthArgv('blog-db', ['mariadb-admin', 'ping'])).toEqual(['runc', '--root', '/run/ferry/runc', 'exec', 'blog-db', 'mariadb-admin', 'ping']);
    expect(execHealthArgv('x1', ['true'], '/tmp/r')).toEqual(['runc', '--root', '/tmp/r', 'exec', 'x1', 'true']);
  });
});
