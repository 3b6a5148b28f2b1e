import { describe, expect, it } from 'vitest';
import { PlainProgress, TtyProgress, elapsed, fitWidth, renderSteps, type Step } from '../../../src/cli/progress.ts';

describe('renderSteps', () => {
  const steps: Step[] = [
    { title: 'terraform init (offline)', startedAt: 0, endedAt: 1200, state: 'done' },
    { title: 'terraform apply: lab-1, lab-2', startedAt: 1200, endedAt: 4000, state: 'failed' },
    { title: 'provisioning the lab hosts (ansible)', startedAt: 4000, state: 'running' },
  ];

  it('marks finished steps with their time and the running one with a spinner and its time so far', () => {
    expect(renderSteps(steps, 130_000, 0)).toEqual(['✔ terraform init (offline) (1.2 s)', '✘ terraform apply: lab-1, lab-2 (2.8 s)', '⠋ provisioning the lab hosts (ansible) (2 min 06 s)']);
    expect(renderSteps(steps, 5000, 3)[2]).toBe('⠸ provisioning the lab hosts (ansible) (1.0 s)');
  });

  it('cuts every row to the terminal width, so a redraw knows its height', () => {
    for (const row of renderSteps(steps, 5000, 0, 20)) expect([...row].length).toBeLessThanOrEqual(19);
    expect(fitWidth('abcdef', 5)).toBe('abc…');
    expect(fitWidth('abcd', 5)).toBe('abcd');
  });

  it('says durations in seconds, then minutes', () => {
    expect(elapsed(0)).toBe('0.0 s');
    expect(elapsed(59_949)).toBe('59.9 s');
    expect(elapsed(61_000)).toBe('1 min 01 s');
  });
});

describe('PlainProgress', () => {
  it('prints a line when a step begins and one when it ends, never rewriting', () => {
    const lines: string[] = [];
    let t = 0;
    const p = new PlainProgress((l) => lines.push(l), () => t);
    p.step('terraform apply: lab-1');
    t = 1500;
    p.log('  terraform: Apply complete!');
    p.step('provisioning \x1b[2Jthe hosts');
    t = 4000;
    p.end(false);
    expect(lines).toEqual(['… terraform apply: lab-1', '  terraform: Apply complete!', '✔ terraform apply: lab-1 (1.5 s)', '… provisioning [2Jthe hosts', '✘ provisioning [2Jthe hosts (2.5 s)']);
  });
});

describe('TtyProgress', () => {
  function terminal() {
    let out = '';
    return { write: (s: string) => void (out += s), columns: 60, text: () => out };
  }

  it('redraws the list in place: up as many rows as it drew, cleared, drawn again', () => {
    const term = terminal();
    let t = 0;
    const p = new TtyProgress(term, () => t, 0);
    p.step('terraform init');
    t = 1000;
    p.step('terraform apply');
    t = 3000;
    p.end(true);
    expect(term.text()).toBe(['⠋ terraform init (0.0 s)\n', '\x1b[1F\x1b[J', '✔ terraform init (1.0 s)\n⠋ terraform apply (0.0 s)\n', '\x1b[2F\x1b[J', '✔ terraform init (1.0 s)\n✔ terraform apply (2.0 s)\n'].join(''));
  });

  it('prints a logged line above the list, then the list below it', () => {
    const term = terminal();
    const p = new TtyProgress(term, () => 0, 0);
    p.step('ansible');
    p.log('  ansible-playbook: TASK [criu]');
    p.end(false);
    expect(term.text()).toBe(['⠋ ansible (0.0 s)\n', '\x1b[1F\x1b[J', '  ansible-playbook: TASK [criu]\n', '⠋ ansible (0.0 s)\n', '\x1b[1F\x1b[J', '✘ ansible (0.0 s)\n'].join(''));
  });
});
