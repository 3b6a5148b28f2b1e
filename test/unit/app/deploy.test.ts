import { describe, expect, it } from 'vitest';
import { leftBehind } from '../../../src/app/deploy.ts';
import { ErrorCode, FerryError } from '../../../src/errors.ts';

describe('leftBehind: a WordPress deploy that fails halfway', () => {
  it('keeps the cause and its code, says what runs and how to remove what is left', () => {
    const cause = new FerryError(ErrorCode.HealthCheckFailed, 'blog-web runs on lab-1 but did not pass its health check');
    const e = leftBehind(cause, 'blog', 'lab-1', 'blog-web', [{ name: 'blog-db' }], ['blog-db', 'blog-web']);
    expect(e.code).toBe(ErrorCode.HealthCheckFailed);
    expect(e.message).toBe(
      'WordPress group blog: blog-web failed: blog-web runs on lab-1 but did not pass its health check. blog-db runs on lab-1. Remove what is left with: ferry rm blog-db blog-web --on lab-1',
    );
    expect(e.details).toMatchObject({ group: 'blog', running: ['blog-db'] });
  });

  it('says nothing runs when the first container failed, and names a foreign error as a failed deploy', () => {
    const e = leftBehind(new Error('rsync died'), 'blog', 'lab-1', 'blog-db', [], ['blog-db']);
    expect(e.code).toBe(ErrorCode.DeployFailed);
    expect(e.message).toBe('WordPress group blog: blog-db failed: rsync died. Remove what is left with: ferry rm blog-db --on lab-1');
  });
});
