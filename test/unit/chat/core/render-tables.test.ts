import { describe, expect, it } from 'vitest';
import type { SectionBlock } from '../../../../src/chat/core/blocks.ts';
import { hostsTable, listTable, type HostRow, type JobRow } from '../../../../src/chat/core/render.ts';
import { expectValidMessage } from '../block-kit.ts';

const body = (m: { blocks: unknown[] }) => /```\n([\s\S]*?)\n```/.exec((m.blocks[0] as SectionBlock).text.text)?.[1]?.split('\n') ?? [];

describe('hostsTable', () => {
  const rows: HostRow[] = [
    { name: 'aws-1', environment: 'aws', address: '10.0.0.1', criu: '4.2', preCopy: true, containers: ['web1', 'db1'] },
    { name: 'gcp-1', environment: 'gcp', address: '10.0.1.1', criu: null, preCopy: false, containers: [] },
  ];

  it('tabulates the hosts, with only the columns it has data for', () => {
    const m = hostsTable(rows);
    expectValidMessage(m);
    expect((m.blocks[0] as SectionBlock).text.text.startsWith('*Hosts* (2 hosts)\n```\n')).toBe(true);
    const lines = body(m);
    expect(lines[0]).toMatch(/^Host\s+Env\s+Address\s+CRIU\s+Pre-copy\s+Containers$/);
    expect(lines[2]).toMatch(/^aws-1\s+aws\s+10\.0\.0\.1\s+4\.2\s+yes\s+web1, db1$/);
    expect(lines[3]).toMatch(/^gcp-1\s+gcp\s+10\.0\.1\.1\s+none\s+no\s+-$/);
    expect(lines).toHaveLength(4);
    expect(m.text).toBe('2 hosts: aws-1, gcp-1');
  });

  it('shows reachability and kernels when known', () => {
    const lines = body(hostsTable([{ name: 'lab-1', environment: 'local', reachable: false, kernel: '6.1.0' }, { name: 'lab-2', environment: 'local', reachable: null }]));
    expect(lines[0]).toMatch(/^Host\s+Env\s+Up\s+Kernel$/);
    expect(lines[2]).toMatch(/^lab-1\s+local\s+NO\s+6\.1\.0$/);
    expect(lines[3]).toMatch(/^lab-2\s+local\s+\?$/);
  });

  it("shows the inventory's groups, comma-separated, when the hosts have them", () => {
    const lines = body(
      hostsTable([
        { name: 'web-1', environment: 'prod', groups: ['env_prod', 'web'], address: '192.0.2.11' },
        { name: 'cache-1', environment: 'default', groups: ['ungrouped'], address: '192.0.2.14' },
        { name: 'db-1', environment: 'prod', groups: [], address: '192.0.2.13' },
      ]),
    );
    expect(lines[0]).toMatch(/^Host\s+Env\s+Groups\s+Address$/);
    expect(lines[2]).toMatch(/^web-1\s+prod\s+env_prod,web\s+192\.0\.2\.11$/);
    expect(lines[3]).toMatch(/^cache-1\s+default\s+ungrouped\s+192\.0\.2\.14$/);
    expect(lines[4]).toMatch(/^db-1\s+prod\s+-\s+192\.0\.2\.13$/);
  });

  it('has no groups column for hosts from a hosts.json (which has no groups)', () => {
    expect(body(hostsTable(rows))[0]).not.toContain('Groups');
  });

  it('says when there are no hosts', () => {
    const m = hostsTable([]);
    expectValidMessage(m);
    expect((m.blocks[0] as SectionBlock).text.text).toContain('No hosts in the inventory');
  });

  it('cuts a long inventory to fit one section', () => {
    const many = Array.from({ length: 500 }, (_, i): HostRow => ({ name: `host-${i}`, environment: 'aws', address: `10.0.${i >> 8}.${i & 255}` }));
    const m = hostsTable(many);
    expectValidMessage(m);
    const lines = body(m);
    expect(lines[0]).toMatch(/^Host/);
    expect(lines.at(-1)).toMatch(/^… \d+ more$/);
    expect(lines.length - 3 + Number(/\d+/.exec(lines.at(-1)!)![0])).toBe(500);
  });
});

describe('listTable', () => {
  const jobs: JobRow[] = [
    { id: 'm-1', container: 'web1', from: 'aws-1', to: 'gcp-1', status: 'running', phase: 'checkpoint', method: 'pc-ps', createdAt: '2025-03-01T12:00:00Z' },
    { id: 'm-2', container: 'db1', from: 'lab-1', to: 'lab-2', status: 'queued', createdAt: Date.parse('2025-03-01T12:05:00Z') },
  ];

  it('tabulates the migrations', () => {
    const m = listTable(jobs);
    expectValidMessage(m);
    const lines = body(m);
    expect(lines[0]).toMatch(/^ID\s+Container\s+From → To\s+Status\s+Method\s+Created \(UTC\)$/);
    expect(lines[2]).toMatch(/^m-1\s+web1\s+aws-1 → gcp-1\s+running: Checkpoint\s+pc-ps\s+03-01 12:00$/);
    expect(lines[3]).toMatch(/^m-2\s+db1\s+lab-1 → lab-2\s+queued\s+-\s+03-01 12:05$/);
    expect(m.text).toBe('2 migrations: web1 running, db1 queued');
  });

  it('shows a group’s migration as the group', () => {
    const m = listTable([...jobs, { id: 'm-4', group: 'blog', from: 'lab-1', to: 'lab-2', status: 'running', method: 'page-server' }]);
    expectValidMessage(m);
    expect(body(m)[4]).toMatch(/^m-4\s+group blog\s+lab-1 → lab-2\s+running\s+page-server\s+-$/);
    expect(m.text).toBe('3 migrations: web1 running, db1 queued, group blog running');
  });

  it('says when nothing is queued', () => {
    const m = listTable([]);
    expectValidMessage(m);
    expect((m.blocks[0] as SectionBlock).text.text).toBe('No migrations queued or running.');
  });

  it('shows - for a missing or invalid creation time', () => {
    const lines = body(listTable([{ id: 'm-3', container: 'x', from: 'a', to: 'b', status: 'done', createdAt: 'nope' }]));
    expect(lines[2]).toMatch(/done\s+-\s+-$/);
  });

  it('cuts a long list to fit one section', () => {
    const many = Array.from({ length: 300 }, (_, i): JobRow => ({ id: `m-20250301120000-${String(i).padStart(6, '0')}`, container: 'web1', from: 'aws-1', to: 'gcp-1', status: 'queued' }));
    const m = listTable(many);
    expectValidMessage(m);
    expect(body(m).at(-1)).toMatch(/^… \d+ more$/);
  });
});
