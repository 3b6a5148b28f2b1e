import path from 'node:path';
import { inventorySource } from '../config.ts';
import { ErrorCode, FerryError, errorMessage } from '../errors.ts';

/**
 * Options that every command reading the hosts takes, before or after the command's name
 * (`ferry --inventory inv/ hosts`, `ferry hosts --inventory inv/`). Each stands in for an
 * environment variable for this run, and wins over it.
 */
export interface GlobalFlags {
  /** `--inventory SOURCE`: FERRY_INVENTORY for this run; a relative path is taken from the working directory. @defaultValue none: FERRY_INVENTORY */
  inventory?: string;
  /** `--vault-password-file FILE`: FERRY_VAULT_PASSWORD_FILE for this run; a relative path is taken from the working directory. @defaultValue none: FERRY_VAULT_PASSWORD_FILE */
  vaultPasswordFile?: string;
}

interface GlobalOption {
  flag: string;
  key: keyof GlobalFlags;
  /** The environment variable the flag stands in for. */
  env: string;
  /** The value's placeholder in help. */
  value: string;
  /** Checks the value and makes a path absolute (against cwd), or throws. */
  check(value: string, cwd: string): string;
  help: string;
}

const GLOBAL_OPTIONS: readonly GlobalOption[] = [
  {
    flag: '--inventory',
    key: 'inventory',
    env: 'FERRY_INVENTORY',
    value: 'FILE|DIR',
    check: (v, cwd) => inventorySource('--inventory', v, cwd),
    help: 'the hosts from this Ansible inventory (file, directory, plugin configuration or script, or a,b, host list); overrides FERRY_INVENTORY',
  },
  {
    flag: '--vault-password-file',
    key: 'vaultPasswordFile',
    env: 'FERRY_VAULT_PASSWORD_FILE',
    value: 'FILE',
    check: (v, cwd) => {
      if (v === '' || v.startsWith('-') || /[\0\n]/.test(v)) throw new FerryError(ErrorCode.UsageError, `--vault-password-file='${v}' must name the vault password file (or script)`);
      return path.resolve(cwd, v);
    },
    help: "the inventory's vault password file (or script), passed to Ansible; overrides FERRY_VAULT_PASSWORD_FILE",
  },
];

/** One line per global option, for help texts. */
const OPTION_LINES = GLOBAL_OPTIONS.map((o) => `  ${`${o.flag} ${o.value}`.padEnd(28)}  ${o.help}`);

/** The global options for `--help`: every command that reads the hosts lists them. */
export const GLOBAL_OPTIONS_HELP = ['Inventory (before or after the command name):', ...OPTION_LINES].join('\n');

/** The global options in `ferry --help`, from the same list. */
export const GLOBAL_OPTIONS_USAGE = ['Every command that reads the hosts also takes, before or after its name:', ...OPTION_LINES];

/**
 * Takes the global options out of a command line (pure): `--inventory X` or `--inventory=X`,
 * anywhere before a `--`; everything else is left, in order, for the command. A missing, repeated
 * or unusable value is a usage error.
 */
export function splitGlobalFlags(argv: readonly string[], cwd: string): { flags: GlobalFlags; args: string[] } {
  const flags: GlobalFlags = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const option = GLOBAL_OPTIONS.find((o) => token === o.flag || token.startsWith(`${o.flag}=`));
    if (!option) {
      args.push(token);
      continue;
    }
    let value: string | undefined;
    if (token === option.flag) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new FerryError(ErrorCode.UsageError, `${option.flag} needs a value: ${option.flag} ${option.value}`);
      i++;
    } else {
      value = token.slice(option.flag.length + 1);
    }
    if (flags[option.key] !== undefined) throw new FerryError(ErrorCode.UsageError, `${option.flag} is given twice`);
    flags[option.key] = checked(option, value, cwd);
  }
  return { flags, args };
}

/** The environment with the global options in place of their variables (pure): a flag wins over its variable. */
export function envWithGlobalFlags(env: NodeJS.ProcessEnv, flags: GlobalFlags): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const o of GLOBAL_OPTIONS) {
    const v = flags[o.key];
    if (v !== undefined) out[o.env] = v;
  }
  return out;
}

/** The global options given, by flag (`--inventory`), for messages. */
export function givenGlobalFlags(flags: GlobalFlags): string[] {
  return GLOBAL_OPTIONS.filter((o) => flags[o.key] !== undefined).map((o) => o.flag);
}

function checked(option: GlobalOption, value: string, cwd: string): string {
  try {
    return option.check(value, cwd);
  } catch (e) {
    throw new FerryError(ErrorCode.UsageError, errorMessage(e), { original: e });
  }
}
