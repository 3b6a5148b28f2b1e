import { split } from 'shlex';

/** The `-o` options of Ansible's SSH argument variables that decide which host key Ferry pins. */
export interface SshHostKeyOptions {
  /** `UserKnownHostsFile`: one or more files (OpenSSH allows a space-separated list), `~` expanded. */
  userKnownHostsFiles?: string[];
  /** `StrictHostKeyChecking` as written (yes, no, off, ask, accept-new), lowercased. Ferry only quotes it in messages. */
  strictHostKeyChecking?: string;
  /** `HostKeyAlias`: the name looked up in known_hosts instead of the address. */
  hostKeyAlias?: string;
}

/**
 * Reads the host-key options from `ansible_ssh_common_args` and `ansible_ssh_extra_args`, in the
 * order Ansible puts them on ssh's command line. Split exactly as Ansible splits them (Python's
 * shlex, posix mode: quotes, backslashes, no expansion). For each option the first value wins, as in
 * OpenSSH. Throws (a plain Error with shlex's message) on text shlex cannot split, such as an
 * unclosed quote; the caller reports it per host.
 */
export function sshHostKeyOptions(argStrings: readonly (string | undefined)[], home: string): SshHostKeyOptions {
  const out: SshHostKeyOptions = {};
  for (const option of dashOOptions(argStrings.flatMap((s) => (s ? split(s) : [])))) {
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(option);
    if (!m) continue;
    const [, name, value] = m as unknown as [string, string, string];
    switch (name.toLowerCase()) {
      case 'userknownhostsfile':
        out.userKnownHostsFiles ??= value.split(/\s+/).filter(Boolean).map((f) => expandTilde(f, home));
        break;
      case 'stricthostkeychecking':
        out.strictHostKeyChecking ??= value.toLowerCase();
        break;
      case 'hostkeyalias':
        out.hostKeyAlias ??= value;
        break;
    }
  }
  return out;
}

/** The arguments of every `-o X` and `-oX` in an ssh argument list. */
function dashOOptions(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-o' && i + 1 < args.length) out.push(args[++i]!);
    else if (a.startsWith('-o') && a.length > 2) out.push(a.slice(2));
  }
  return out;
}

/** `~` and `~/…` to the home directory, as OpenSSH and Ansible do for key and known_hosts paths. */
export function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? `${home}${p.slice(1)}` : p;
}
