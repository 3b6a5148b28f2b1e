import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../../src/chat/core/parse.ts';
import { memberNames } from '../../../../src/workloads/wordpress/members.ts';

/**
 * `/migrate` takes the containers `ferry deploy` makes as it takes the built-in ones: any valid
 * container name, including the `-db` and `-web` members of a WordPress group, up to the longest
 * group name deploy accepts.
 */
describe('parseCommand: containers deployed with ferry deploy', () => {
  const longest = 'a'.repeat(27);
  it.each([
    ['a WordPress database', 'blog-db'],
    ['a WordPress web container', 'blog-web'],
    ['an image deployed as img1', 'img1'],
    ['the longest group name, -web', memberNames(longest).web],
    ['a name that looks like a command word, then -db', 'status-db'],
  ])('%s (%s)', (_what, name) => {
    expect(parseCommand(`${name} from lab-1 to lab-2 method page-server`)).toEqual({ kind: 'migrate', container: name, from: 'lab-1', to: 'lab-2', method: 'page-server', dryRun: false });
  });

  it('keeps a deployed name that is also a command word when a migration follows', () => {
    expect(parseCommand('status from lab-1 to lab-2')).toMatchObject({ kind: 'migrate', container: 'status' });
  });
});
