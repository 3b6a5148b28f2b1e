/**
 * playbooks/tasks/wire-security.yml (imported by provision.yml) run for real by ansible-playbook
 * over SSH against a host that is a network namespace of our own (hx-sec-*): the TLS files
 * installed from the controller's PKI (the key never in the output), the page-port guard applied,
 * a second run changing nothing, --check changing nothing, and a host without a certificate
 * passing with a note. The host's PKI directory is a scratch directory, not /etc/ferry/pki (which
 * the namespace lab's hosts share with this machine). Root only.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYBOOK_DIR, parseRecap } from '../../src/infra/ansible.ts';
import { ensurePki, pkiHostFiles } from '../../src/infra/pki.ts';
import { skipNote } from '../helpers/env.ts';
import { createPair, netnsUnavailable, sshIntoNs, type NetnsPair, type SshIntoNs } from './netns.ts';

const why = netnsUnavailable(['ip', 'nsenter', 'nft', 'sshd', 'ssh-keygen', 'ansible-playbook', 'openssl']);
skipNote(why, 'wire-security.yml against a namespace host');

describe.skipIf(why !== null)('provision: TLS files and the page-port guard, by Ansible', () => {
  let pair: NetnsPair;
  let sshd: SshIntoNs;
  let pki: string;
  let hostPki: string;
  let inventory: string;
  let playbook: string;

  beforeAll(async () => {
    pair = await createPair('ans');
    sshd = await sshIntoNs(pair, pair.nsB, 'hx-target');
    pki = path.join(pair.dir, 'pki');
    hostPki = path.join(pair.dir, 'host-etc-ferry-pki');
    await ensurePki(pki, [{ name: 'hx-target', addresses: [pair.target] }], { environment: 'hx-sec' });
    const s = sshd.spec;
    inventory = path.join(pair.dir, 'inventory.ini');
    await writeFile(
      inventory,
      [
        '[ferry]',
        `hx-target ansible_host=${s.address} ansible_port=${s.port} ansible_user=root ansible_ssh_private_key_file=${s.privateKeyFile}`,
        '[ferry:vars]',
        `ansible_ssh_common_args='-o UserKnownHostsFile=${sshd.knownHosts} -o StrictHostKeyChecking=yes'`,
        'ansible_python_interpreter=/usr/bin/python3',
        // The sshd runs every session through a forced command: files go over the exec channel.
    // (No ControlPersist either, set in play(): a master would outlive the test's sshd.)
        'ansible_ssh_transfer_method=piped',
        '',
      ].join('\n'),
    );
    playbook = path.join(pair.dir, 'wire.yml');
    await writeFile(
      playbook,
      [
        '- hosts: all',
        '  gather_facts: false',
        '  vars:',
        `    ferry_host_pki_dir: ${hostPki}`,
        `    ferry_page_guard_file: ${path.join(PLAYBOOK_DIR, 'files/page-guard.nft')}`,
        '  tasks:',
        `    - ansible.builtin.import_tasks: ${path.join(PLAYBOOK_DIR, 'tasks/wire-security.yml')}`,
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await sshd?.stop();
    await pair?.destroy();
  });

  async function play(opts: { check?: boolean; pkiDir?: string } = {}) {
    const args = ['-i', inventory, playbook, '-e', JSON.stringify({ ferry_pki_dir: opts.pkiDir ?? pki })];
    if (opts.check) args.push('--check');
    const r = await execa('ansible-playbook', args, {
      reject: false,
      env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_RETRY_FILES_ENABLED: '0', ANSIBLE_PIPELINING: '1', ANSIBLE_LOCALHOST_WARNING: '0', ANSIBLE_SSH_ARGS: '-o ControlMaster=no', HOME: path.join(pair.dir, 'ansible-home') },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.exitCode, out.slice(-4000)).toBe(0);
    return { recap: parseRecap(r.stdout)['hx-target']!, out };
  }

  const guardChain = async () => (await pair.inNs(pair.nsB, ['nft', 'list', 'chain', 'inet', 'ferry', 'input'])).stdout;

  it('installs the CA, the host certificate and key (0600, never printed) and applies the guard', async () => {
    const { recap, out } = await play();
    expect(recap).toMatchObject({ failed: 0, unreachable: 0 });
    expect(recap.changed).toBeGreaterThanOrEqual(3);
    for (const [file, from, mode] of [
      ['ca.crt', path.join(pki, 'ca.crt'), 0o644],
      ['hx-target.crt', pkiHostFiles(pki, 'hx-target').cert, 0o644],
      ['hx-target.key', pkiHostFiles(pki, 'hx-target').key, 0o600],
    ] as const) {
      expect(await readFile(path.join(hostPki, file), 'utf8')).toBe(await readFile(from, 'utf8'));
      expect((await stat(path.join(hostPki, file))).mode & 0o777).toBe(mode);
    }
    const key = await readFile(pkiHostFiles(pki, 'hx-target').key, 'utf8');
    expect(out).not.toContain(key.split('\n')[1]!);
    expect(await guardChain()).toMatch(/reject with tcp reset/);
  });

  it('changes nothing on a second run', async () => {
    expect((await play()).recap).toMatchObject({ changed: 0, failed: 0 });
  });

  it('--check reports drift and changes nothing; a real run repairs it', async () => {
    await writeFile(path.join(hostPki, 'hx-target.crt'), 'tampered\n');
    await pair.inNs(pair.nsB, ['nft', 'delete', 'table', 'inet', 'ferry']);
    const check = await play({ check: true });
    expect(check.recap.changed).toBeGreaterThanOrEqual(2);
    expect(await readFile(path.join(hostPki, 'hx-target.crt'), 'utf8')).toBe('tampered\n');
    expect(await guardChain()).toBe('');
    const fix = await play();
    expect(fix.recap.changed).toBeGreaterThanOrEqual(2);
    expect(await readFile(path.join(hostPki, 'hx-target.crt'), 'utf8')).toBe(await readFile(pkiHostFiles(pki, 'hx-target').cert, 'utf8'));
    expect(await guardChain()).toMatch(/reject with tcp reset/);
  });

  it('a host with no certificate on the controller passes, with a note saying what to run', async () => {
    const empty = path.join(pair.dir, 'no-pki');
    await mkdir(empty);
    const { recap, out } = await play({ pkiDir: empty });
    expect(recap).toMatchObject({ failed: 0, changed: 0 });
    expect(out).toMatch(/Run `ferry pki`/);
  });
});
