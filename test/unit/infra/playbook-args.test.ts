import { describe, expect, it } from 'vitest';
import { playbookArgs, unsafeYaml } from '../../../src/infra/ansible.ts';

describe('playbookArgs', () => {
  it('puts the inventory, the playbook and each option in its own argument', () => {
    expect(
      playbookArgs('/srv/hooks/drain.yml', '/etc/ansible/fleet', {
        limit: 'lab-1,lab-2',
        extraVars: { name: 'web1', replace: true },
        dataVars: { ferry_container: 'web1' },
        vaultPasswordFile: '/etc/ferry/vault-pass',
        check: true,
      }),
    ).toEqual([
      '-i',
      '/etc/ansible/fleet',
      '/srv/hooks/drain.yml',
      '--limit',
      'lab-1,lab-2',
      '--extra-vars',
      '{"name":"web1","replace":true}',
      '--extra-vars',
      '{"ferry_container": !unsafe "web1"}',
      '--vault-password-file',
      '/etc/ferry/vault-pass',
      '--check',
    ]);
  });

  it('adds nothing that was not asked for', () => {
    expect(playbookArgs('/p.yml', 'lab-1,', {})).toEqual(['-i', 'lab-1,', '/p.yml']);
  });
});

describe('unsafeYaml', () => {
  it('tags every string, however deep, and keeps numbers, booleans and null as they are', () => {
    expect(unsafeYaml({ a: 'x', n: 1.5, b: false, z: null, l: ['y', 2, { c: 'w' }], o: {} })).toBe(
      '{"a": !unsafe "x", "n": 1.5, "b": false, "z": null, "l": [!unsafe "y", 2, {"c": !unsafe "w"}], "o": {}}',
    );
  });

  it('quotes strings as JSON does, so quotes, backslashes, newlines and braces stay inside the scalar', () => {
    expect(unsafeYaml('say "{{ 7*7 }}"\\\n')).toBe('!unsafe "say \\"{{ 7*7 }}\\"\\\\\\n"');
  });

  it('drops undefined members as JSON does, and writes non-finite numbers as null', () => {
    expect(unsafeYaml({ a: undefined, b: Number.NaN, c: Infinity })).toBe('{"b": null, "c": null}');
  });

  it('quotes keys too', () => {
    expect(unsafeYaml({ 'a: b': 1 })).toBe('{"a: b": 1}');
  });
});
